"""ember.optim.swa_utils: AveragedModel (SWA/EMA), SWALR, update_bn."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember import nn, optim
from ember.optim import swa_utils

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch oracle not installed")


def _model(lib):
    m = lib.nn
    return m.Sequential(m.Linear(3, 4), m.BatchNorm1d(4), m.ReLU(), m.Linear(4, 2))


def _set_weights(model, seed):
    rng = np.random.default_rng(seed)
    with ember.no_grad():
        for p in model.parameters():
            p.copy_(ember.from_numpy(rng.standard_normal(tuple(p.shape)).astype(np.float32)))


def test_swa_average_is_the_mean_of_snapshots():
    model = _model(ember)
    swa = swa_utils.AveragedModel(model)
    snaps = []
    for seed in range(4):
        _set_weights(model, seed)
        model.train()
        model(ember.randn(5, 3))  # moves the BatchNorm buffers
        snaps.append([p.detach().numpy().copy() for p in model.parameters()])
        swa.update_parameters(model)
    assert int(swa.n_averaged) == 4
    for i, p in enumerate(swa.module.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), np.mean([s[i] for s in snaps], 0),
                                   rtol=1e-5, atol=1e-6)
    # Buffers are copied, not averaged (use_buffers=False).
    for b_swa, b in zip(swa.module.buffers(), model.buffers()):
        assert np.array_equal(b_swa.numpy(), b.numpy())
    # The averaged copy is independent of the model and usable as a module.
    assert swa.module[0].weight is not model[0].weight
    swa.eval()
    assert tuple(swa(ember.randn(2, 3)).shape) == (2, 2)
    assert "n_averaged" in swa.state_dict()


def test_ema_and_custom_avg_fn_and_use_buffers():
    model = _model(ember)
    decay = 0.9
    ema = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(decay),
                                  use_buffers=True)
    ema2 = swa_utils.AveragedModel(model, avg_fn=swa_utils.get_ema_avg_fn(decay),
                                   use_buffers=True)
    expect = None
    for seed in range(5):
        _set_weights(model, seed)
        cur = [t.detach().numpy().astype(np.float64) for t in
               list(model.parameters()) + list(model.buffers())]
        expect = cur if expect is None else [decay * e + (1 - decay) * c
                                             for e, c in zip(expect, cur)]
        ema.update_parameters(model)
        ema2.update_parameters(model)
    got = list(ema.module.parameters()) + list(ema.module.buffers())
    got2 = list(ema2.module.parameters()) + list(ema2.module.buffers())
    for g, g2, e in zip(got, got2, expect):
        np.testing.assert_allclose(g.detach().numpy().astype(np.float64), e, rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(g2.detach().numpy().astype(np.float64), e, rtol=1e-5,
                                   atol=1e-6)
    with pytest.raises(ValueError, match="Invalid decay"):
        swa_utils.get_ema_multi_avg_fn(1.5)
    with pytest.raises(AssertionError, match="Only one of"):
        swa_utils.AveragedModel(model, avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())


def test_update_bn_recomputes_statistics():
    model = _model(ember)
    _set_weights(model, 0)
    rng = np.random.default_rng(1)
    data = [ember.from_numpy(rng.standard_normal((8, 3)).astype(np.float32)) for _ in range(4)]
    loader = [(x, ember.zeros(8)) for x in data]  # (input, target) pairs
    model.eval()
    bn = model[1]
    bn.momentum = 0.3
    swa_utils.update_bn(loader, model)
    assert not model.training and bn.momentum == 0.3
    with ember.no_grad():
        feats = [model[0](x).numpy() for x in data]
    # momentum=None: the cumulative average of per-batch statistics.
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([f.mean(0) for f in feats], 0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(),
                               np.mean([f.var(0, ddof=1) for f in feats], 0), rtol=1e-5)


def test_swalr_hand_computed():
    w = nn.Parameter(ember.zeros(2))
    opt = optim.SGD([w], lr=1.0)
    sched = swa_utils.SWALR(opt, swa_lr=0.2, anneal_epochs=4, anneal_strategy="linear")
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(6):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    np.testing.assert_allclose(lrs, [1.0, 0.8, 0.6, 0.4, 0.2, 0.2, 0.2])
    sd = sched.state_dict()
    assert "anneal_func" not in sd
    with pytest.raises(ValueError, match="anneal_strategy"):
        swa_utils.SWALR(opt, 0.1, anneal_strategy="exp")


@needs_torch
@pytest.mark.parametrize("strategy,epochs", [("cos", 5), ("linear", 3), ("cos", 0)])
def test_swalr_matches_torch(strategy, epochs):
    seqs = []
    for lib, mod in [(ember, swa_utils), (torch, torch.optim.swa_utils)]:
        ps = [lib.nn.Parameter(lib.zeros(2)), lib.nn.Parameter(lib.zeros(2))]
        opt = lib.optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.3}], lr=0.1)
        sched = mod.SWALR(opt, swa_lr=[0.05, 0.5], anneal_epochs=epochs,
                          anneal_strategy=strategy)
        seq = []
        for _ in range(12):
            opt.step()
            sched.step()
            seq.append(sched.get_last_lr())
        seqs.append(seq)
    np.testing.assert_allclose(seqs[0], seqs[1], rtol=1e-14)


@needs_torch
@pytest.mark.parametrize("kind", ["swa", "ema", "swa_avg_fn"])
def test_averaged_model_matches_torch(kind):
    e_model, t_model = _model(ember), _model(torch)
    fns = {"swa": ({}, {}),
           "ema": ({"multi_avg_fn": swa_utils.get_ema_multi_avg_fn(0.8), "use_buffers": True},
                   {"multi_avg_fn": torch.optim.swa_utils.get_ema_multi_avg_fn(0.8),
                    "use_buffers": True}),
           "swa_avg_fn": ({"avg_fn": swa_utils.get_swa_avg_fn()},
                          {"avg_fn": torch.optim.swa_utils.get_swa_avg_fn()})}[kind]
    e_swa = swa_utils.AveragedModel(e_model, **fns[0])
    t_swa = torch.optim.swa_utils.AveragedModel(t_model, **fns[1])
    rng = np.random.default_rng(0)
    for step in range(6):
        _set_weights(e_model, step)
        t_model.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                                 for k, v in e_model.state_dict().items()})
        x = rng.standard_normal((6, 3)).astype(np.float32)
        e_model.train()
        t_model.train()
        e_model(ember.from_numpy(x))
        t_model(torch.from_numpy(x))
        e_swa.update_parameters(e_model)
        t_swa.update_parameters(t_model)
    e_sd, t_sd = e_swa.state_dict(), t_swa.state_dict()
    assert list(e_sd) == list(t_sd)
    for k in t_sd:
        np.testing.assert_allclose(e_sd[k].detach().numpy(), t_sd[k].detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
    # update_bn gives the same statistics.
    data = [rng.standard_normal((8, 3)).astype(np.float32) for _ in range(3)]
    swa_utils.update_bn([ember.from_numpy(d) for d in data], e_swa)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.optim.swa_utils.update_bn([torch.from_numpy(d) for d in data], t_swa)
    e_sd, t_sd = e_swa.state_dict(), t_swa.state_dict()
    for k in t_sd:
        np.testing.assert_allclose(e_sd[k].detach().numpy(), t_sd[k].detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
