"""Losses: against PyTorch (float64), gradcheck, hand-computed values, PyTorch's errors."""

import itertools
import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck

R = np.random.default_rng(0)
X, T, W = R.standard_normal((4, 5)), R.integers(0, 5, 4), R.random(5)
A, B = R.standard_normal((3, 4)), R.standard_normal((3, 4))
P, Q = R.random((3, 4)) * 0.9 + 0.05, R.random((3, 4))
X3, T3 = R.standard_normal((2, 5, 3, 2)), R.integers(0, 5, (2, 3, 2))
LBL = np.array([[3, 0, -1, 1], [1, 2, 3, -1], [-1, 0, 0, 0]])

# (name, args, kwargs, indices of differentiable args)
CASES = [("cross_entropy", [X, T], {}, (0,)),
         ("cross_entropy", [X, T], {"weight": W, "ignore_index": int(T[0])}, (0,)),
         ("cross_entropy", [X, T], {"weight": W, "label_smoothing": 0.2}, (0,)),
         ("cross_entropy", [X, R.random((4, 5))], {"weight": W, "label_smoothing": 0.1}, (0, 1)),
         ("cross_entropy", [X3, T3], {"weight": W}, (0,)),
         ("cross_entropy", [X3, T3], {"label_smoothing": 0.3}, (0,)),
         ("cross_entropy", [X[0], np.array(2)], {}, (0,)),
         ("nll_loss", [X, T], {"weight": W, "ignore_index": int(T[1])}, (0,)),
         ("nll_loss", [X3, T3], {}, (0,)),
         ("l1_loss", [A, B], {}, (0, 1)), ("mse_loss", [A, B], {}, (0, 1)),
         ("smooth_l1_loss", [A, B], {"beta": 0.5}, (0, 1)),
         ("huber_loss", [A, B], {"delta": 0.7}, (0, 1)),
         ("binary_cross_entropy", [P, Q], {"weight": Q}, (0, 1)),
         ("binary_cross_entropy_with_logits", [A * 10, Q],
          {"weight": P, "pos_weight": R.random(4)}, (0, 1)),
         ("kl_div", [np.log(P), Q], {"reduction": "batchmean"}, (0, 1)),
         ("kl_div", [np.log(P), np.log(Q)], {"log_target": True}, (0, 1)),
         ("soft_margin_loss", [A, np.sign(B)], {}, (0,)),
         ("multilabel_soft_margin_loss", [A, (B > 0) * 1.0], {"weight": R.random(4)}, (0,)),
         ("multi_margin_loss", [A, R.integers(0, 4, 3)], {"p": 2, "margin": 0.5,
                                                          "weight": R.random(4)}, (0,)),
         ("multi_margin_loss", [A, R.integers(0, 4, 3)], {}, (0,)),
         ("multilabel_margin_loss", [A, LBL], {}, (0,)),
         ("margin_ranking_loss", [A[:, 0], B[:, 0], np.sign(B[:, 1])], {"margin": 0.3}, (0, 1)),
         ("hinge_embedding_loss", [A, np.sign(B)], {"margin": 0.5}, (0,)),
         ("cosine_embedding_loss", [A, B, np.array([1.0, -1.0, 1.0])], {"margin": 0.1},
          (0, 1)),
         ("triplet_margin_loss", [A, B, P], {"swap": True}, (0, 1, 2)),
         ("poisson_nll_loss", [A, Q * 3], {"full": True}, (0,)),
         ("poisson_nll_loss", [P, Q * 3], {"log_input": False}, (0,)),
         ("gaussian_nll_loss", [A, B, P], {"full": True}, (0, 1, 2)),
         ("gaussian_nll_loss", [A, B, P[:, 0]], {}, (0, 1, 2))]


def _args(lib, args, kw, grad_idx):
    def conv(i, a):
        if not isinstance(a, np.ndarray):
            return a
        t = lib.tensor(a.copy()) if lib is ember else lib.from_numpy(a.copy())
        return t.requires_grad_() if i in grad_idx else t

    kwargs = {k: conv(-1, v) for k, v in kw.items()}
    return [conv(i, a) for i, a in enumerate(args)], kwargs


@pytest.mark.parametrize("name,args,kw,grad_idx", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_matches_torch(name, args, kw, grad_idx, reduction):
    torch = pytest.importorskip("torch")
    kw = dict(kw)
    if "reduction" not in kw:
        kw["reduction"] = reduction
    elif reduction != "mean":
        pytest.skip("reduction fixed by the case")
    ta, tkw = _args(torch, args, kw, grad_idx)
    ea, ekw = _args(ember, args, kw, grad_idx)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yt = getattr(torch.nn.functional, name)(*ta, **tkw)
        ye = getattr(F, name)(*ea, **ekw)
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    yt.backward(torch.from_numpy(g))
    ye.backward(ember.tensor(g))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-9, atol=1e-12)
    for i in grad_idx:
        np.testing.assert_allclose(ea[i].grad.numpy(), ta[i].grad.numpy(), rtol=1e-9,
                                   atol=1e-12)


@pytest.mark.parametrize("name,args,kw,grad_idx", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_loss_gradcheck(name, args, kw, grad_idx):
    ea, ekw = _args(ember, args, kw, grad_idx)
    fn = getattr(F, name)

    def f(*diff):
        full = list(ea)
        for i, d in zip(grad_idx, diff):
            full[i] = d
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*full, **ekw)

    assert gradcheck(f, tuple(ea[i] for i in grad_idx))


def test_cross_entropy_double_backward():
    x = ember.tensor(X, requires_grad=True)
    t = ember.tensor(T)
    assert gradgradcheck(lambda x: F.cross_entropy(x, t), (x,))
    assert gradgradcheck(lambda x: F.cross_entropy(x, t, reduction="none"), (x,))


def test_loss_modules_state_dict_and_values():
    w = ember.tensor([1.0, 2.0, 3.0])
    ce = nn.CrossEntropyLoss(weight=w, ignore_index=1)
    assert list(ce.state_dict()) == ["weight"] and repr(ce) == "CrossEntropyLoss()"
    assert list(nn.BCEWithLogitsLoss(pos_weight=w).state_dict()) == ["pos_weight"]
    logits = ember.zeros(2, 3)
    # equal logits: every per-sample loss is log(3); weighted mean is still log(3)
    assert math.isclose(ce(logits, ember.tensor([0, 2])).item(), math.log(3), rel_tol=1e-6)
    assert math.isclose(nn.CrossEntropyLoss(label_smoothing=0.5)(
        ember.tensor([[0.0, math.log(3)]]), ember.tensor([1])).item(),
        0.75 * math.log(4 / 3) + 0.25 * math.log(4), rel_tol=1e-6)
    assert nn.MSELoss(reduction="sum")(ember.tensor([1.0]), ember.tensor([3.0])).item() == 4
    assert math.isclose(nn.BCEWithLogitsLoss()(ember.tensor([100.0]),
                                                ember.tensor([0.0])).item(), 100.0)
    assert math.isclose(nn.BCELoss()(ember.tensor([0.0]), ember.tensor([1.0])).item(), 100.0)
    assert nn.HuberLoss(delta=2)(ember.tensor([5.0]), ember.tensor([0.0])).item() == 8.0
    assert nn.SmoothL1Loss(beta=2)(ember.tensor([1.0]), ember.tensor([0.0])).item() == 0.25
    kl = nn.KLDivLoss(reduction="batchmean")(ember.tensor([[math.log(0.5)] * 2]),
                                              ember.tensor([[0.5, 0.5]]))
    assert abs(kl.item()) < 1e-7
    assert F.cross_entropy(ember.zeros(2, 3), ember.tensor([-100, -100])).isnan().item()


def test_cross_entropy_errors():
    x = ember.randn(3, 5)
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got "
                       "Float"):
        F.cross_entropy(x, ember.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="Long or Byte, but got Int"):
        F.cross_entropy(x, ember.tensor([1, 2, 3], dtype=ember.int32))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target "
                       r"batch_size \(2\)."):
        F.cross_entropy(x, ember.tensor([1, 2]))
    with pytest.raises(IndexError, match="Target 7 is out of bounds."):
        F.cross_entropy(x, ember.tensor([1, 2, 7]))
    with pytest.raises(RuntimeError, match=r"Expected target size \[3, 2\], got \[3\]"):
        F.nll_loss(ember.randn(3, 5, 2), ember.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        F.l1_loss(x, x, reduction="foo")
    with pytest.raises(ValueError, match="different to the input size"):
        F.binary_cross_entropy(ember.rand(3), ember.rand(4))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(ember.rand(3), ember.rand(4))
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(ember.randn(3, 1), ember.randn(3, 4))
    with pytest.raises(RuntimeError, match="not broadcastable"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            F.mse_loss(ember.randn(3, 5), ember.randn(3, 4))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(ember.tensor([1.5]), ember.tensor([1.0]))
    with pytest.raises(ValueError, match="var has negative"):
        F.gaussian_nll_loss(x, x, -ember.ones(3, 5))


def _ctc_brute_force(lp, target, blank=0):
    """-log sum over all alignments of length T that collapse to ``target``."""
    t_len, c = lp.shape
    total = -np.inf
    for path in itertools.product(range(c), repeat=t_len):
        collapsed = [k for i, k in enumerate(path) if k != blank and
                     (i == 0 or path[i - 1] != k)]
        if collapsed == list(target):
            total = np.logaddexp(total, sum(lp[i, k] for i, k in enumerate(path)))
    return -total


def test_ctc_matches_brute_force_and_gradcheck():
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((5, 2, 3))
    lp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    targets = np.array([[1, 1], [2, 0]])
    tl = [2, 1]
    loss = F.ctc_loss(ember.tensor(lp), ember.tensor(targets), [5, 4], tl, reduction="none")
    expect = [_ctc_brute_force(lp[:5, 0], [1, 1]), _ctc_brute_force(lp[:4, 1], [2])]
    np.testing.assert_allclose(loss.numpy(), expect, rtol=1e-10)
    x = ember.tensor(logits, requires_grad=True)
    assert gradcheck(lambda x: F.ctc_loss(x.log_softmax(2), ember.tensor(targets), [5, 4], tl),
                     (x,))
    # impossible alignment: infinite unless zero_infinity
    inf = F.ctc_loss(ember.tensor(lp[:, :1]), ember.tensor([[1, 1]]), [2], [2],
                     reduction="none")
    assert math.isinf(inf[0].item())
    z = nn.CTCLoss(zero_infinity=True, reduction="sum")(
        ember.tensor(lp[:, :1]), ember.tensor([[1, 1]]), [2], [2])
    assert z.item() == 0


def test_ctc_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    logits = rng.standard_normal((8, 3, 5))
    tg = np.array([1, 2, 2, 3, 1, 4, 4, 4])  # concatenated targets
    il, tl = [8, 7, 6], [3, 2, 3]
    for red in ("mean", "sum", "none"):
        xt = torch.from_numpy(logits).requires_grad_()
        xe = ember.tensor(logits, requires_grad=True)
        yt = torch.nn.functional.ctc_loss(xt.log_softmax(2), torch.from_numpy(tg), il, tl,
                                          reduction=red)
        ye = F.ctc_loss(xe.log_softmax(2), ember.tensor(tg), il, tl, reduction=red)
        np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-10)
        yt.sum().backward()
        ye.sum().backward()
        np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), atol=1e-10)
