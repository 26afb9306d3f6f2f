"""Run under ``mpiexec -n N``: SyncBatchNorm against one BatchNorm over the whole batch.

Every rank holds a slice of the same global batch; the synchronised layer's outputs, input
gradients, running statistics and (summed over ranks) weight gradients must equal those of
a plain BatchNorm run on the concatenated batch. Results go to ``$OUT/rank<r>.json``.
"""

import json
import os
import sys
import traceback

import numpy as np

import ember
import ember.distributed as dist
import ember.nn as nn

dist.init_process_group("gloo")
R, N = dist.get_rank(), dist.get_world_size()


def _global(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def _compare(shape, sync_kw=None, per_rank=None, momentum=0.1, steps=2):
    """Run ``steps`` training steps of SyncBatchNorm on this rank's slice and BatchNorm on
    the whole batch; compare everything a rank can see."""
    c = shape[1]
    sizes = per_rank or [shape[0]] * N
    total = sum(sizes)
    ref_cls = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}
    ref = ref_cls[len(shape)](c, momentum=momentum).double()
    sync = nn.SyncBatchNorm(c, momentum=momentum, **(sync_kw or {})).double()
    with ember.no_grad():
        w = ember.tensor(_global((c,), 1))
        b = ember.tensor(_global((c,), 2))
        for m in (ref, sync):
            m.weight.copy_(w)
            m.bias.copy_(b)
    lo = sum(sizes[:R])
    for step in range(steps):
        xg = _global((total,) + tuple(shape[1:]), 10 + step)
        gg = _global((total,) + tuple(shape[1:]), 20 + step)
        xr = ember.tensor(xg, requires_grad=True)
        yr = ref(xr)
        yr.backward(ember.tensor(gg))
        xs = ember.tensor(xg[lo:lo + sizes[R]], requires_grad=True)
        ys = sync(xs)
        ys.backward(ember.tensor(gg[lo:lo + sizes[R]]))
        np.testing.assert_allclose(ys.detach().numpy(), yr.detach().numpy()[lo:lo + sizes[R]],
                                   atol=1e-10)
        np.testing.assert_allclose(xs.grad.numpy(), xr.grad.numpy()[lo:lo + sizes[R]],
                                   atol=1e-10)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(getattr(sync, name).numpy(), getattr(ref, name).numpy(),
                                   atol=1e-10)
    # parameter gradients are local: their sum over ranks is the whole batch's
    for name in ("weight", "bias"):
        g = getattr(sync, name).grad.clone()
        dist.all_reduce(g)
        np.testing.assert_allclose(g.numpy(), getattr(ref, name).grad.numpy(), atol=1e-10)


def check_2d_input():
    _compare((4, 3))


def check_4d_input():
    _compare((2, 3, 4, 5))


def check_uneven_batches():
    _compare((0, 2, 3), per_rank=[1 + r for r in range(N)])


def check_cumulative_momentum():
    _compare((3, 2, 5), momentum=None, steps=3)


def check_eval_uses_running_stats():
    sync = nn.SyncBatchNorm(3).double()
    with ember.no_grad():
        sync.running_mean.fill_(0.5)
        sync.running_var.fill_(4.0)
    sync.eval()
    x = ember.tensor(_global((2, 3), 30 + R))
    y = sync(x)
    np.testing.assert_allclose(y.detach().numpy(), (x.numpy() - 0.5) / np.sqrt(4.0 + 1e-5),
                               atol=1e-12)


def check_converted_model_trains_like_one_process():
    def net():
        ember.manual_seed(0)
        return nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                             nn.Flatten(), nn.Linear(4 * 3 * 3, 2)).double()

    ref, model = net(), nn.SyncBatchNorm.convert_sync_batchnorm(net())
    assert type(model[1]) is nn.SyncBatchNorm
    xg = _global((2 * N, 2, 5, 5), 40)
    ref(ember.tensor(xg)).sum().backward()
    model(ember.tensor(xg[2 * R:2 * R + 2])).sum().backward()
    for (name, p), q in zip(ref.named_parameters(), model.parameters()):
        g = q.grad.clone()
        dist.all_reduce(g)
        np.testing.assert_allclose(g.numpy(), p.grad.numpy(), atol=1e-9, err_msg=name)


def check_process_group_of_one_is_plain_batchnorm():
    groups = [dist.new_group([r]) for r in range(N)]  # every rank creates every group
    sync = nn.SyncBatchNorm(3, process_group=groups[R]).double()
    ref = nn.BatchNorm1d(3).double()
    x = ember.tensor(_global((4, 3), 50 + R))
    np.testing.assert_allclose(sync(x).detach().numpy(), ref(x).detach().numpy(), atol=1e-12)


def main():
    out_dir = sys.argv[1]
    results = {}
    for name, fn in list(globals().items()):
        if name.startswith("check_"):
            try:
                fn()
                results[name] = "ok"
            except Exception:  # noqa: BLE001 - reported per check
                results[name] = traceback.format_exc()
            dist.barrier()
    with open(os.path.join(out_dir, f"rank{R}.json"), "w") as f:
        json.dump(results, f)
    dist.destroy_process_group()


main()
