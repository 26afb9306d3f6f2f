"""use_deterministic_algorithms (flag, PyTorch's error and warning) and the reproducibility
recipe of docs/debugging.md: two seeded runs with DataLoader workers are bit-identical."""

import re
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember._deterministic import alert_not_deterministic
from ember._ops.core import OPS, OpDef, apply

ERR = ("my_kernel does not have a deterministic implementation, but you set "
       "'torch.use_deterministic_algorithms(True)'. You can turn off determinism just for "
       "this operation, or you can use the 'warn_only=True' option, if that's acceptable for "
       "your application. You can also file an issue at "
       "https://github.com/pytorch/pytorch/issues to help us prioritize adding deterministic "
       "support for this operation.")


@pytest.fixture(autouse=True)
def _restore():
    yield
    ember.use_deterministic_algorithms(False)


def test_flag_round_trip():
    assert not ember.are_deterministic_algorithms_enabled()
    ember.use_deterministic_algorithms(True)
    assert ember.are_deterministic_algorithms_enabled()
    assert not ember.is_deterministic_algorithms_warn_only_enabled()
    ember.use_deterministic_algorithms(True, warn_only=True)
    assert ember.is_deterministic_algorithms_warn_only_enabled()
    ember.use_deterministic_algorithms(False)
    assert not ember.are_deterministic_algorithms_enabled()
    assert not ember.is_deterministic_algorithms_warn_only_enabled()
    with pytest.raises(TypeError, match="must be bool"):
        ember.use_deterministic_algorithms(1)
    with pytest.raises(TypeError, match="warn_only"):
        ember.use_deterministic_algorithms(True, warn_only="yes")


def test_flag_round_trip_matches_torch():
    torch = pytest.importorskip("torch")
    try:
        for mode, warn_only in ((True, False), (True, True), (False, False)):
            torch.use_deterministic_algorithms(mode, warn_only=warn_only)
            ember.use_deterministic_algorithms(mode, warn_only=warn_only)
            assert (ember.are_deterministic_algorithms_enabled(),
                    ember.is_deterministic_algorithms_warn_only_enabled()) == \
                (torch.are_deterministic_algorithms_enabled(),
                 torch.is_deterministic_algorithms_warn_only_enabled())
        with pytest.raises(TypeError):
            torch.use_deterministic_algorithms(1)
    finally:
        torch.use_deterministic_algorithms(False)


# A registered example of a kernel without a deterministic algorithm (ember's CPU path has
# none: NOTE [ Nondeterministic ops in ember ]); a device backend's atomic scatter-add
# would make the same call.
def _racy_fwd(x):
    alert_not_deterministic("my_kernel")
    return x * 2


_RACY = OpDef("_test_racy_kernel", _racy_fwd, lambda ctx, g: (g * 2,))
OPS.pop(_RACY.name)  # a test record: keep it out of the op-table sweeps


def test_nondeterministic_kernel_raises_pytorch_error():
    x = ember.ones(3)
    np.testing.assert_array_equal(apply(_RACY, (x,)).numpy(), [2, 2, 2])  # off: runs
    ember.use_deterministic_algorithms(True)
    with pytest.raises(RuntimeError) as ei:
        apply(_RACY, (x,))
    assert str(ei.value) == ERR


def test_nondeterministic_kernel_warns_with_warn_only():
    ember.use_deterministic_algorithms(True, warn_only=True)
    with pytest.warns(UserWarning) as rec:
        y = apply(_RACY, (ember.ones(2),))
    np.testing.assert_array_equal(y.numpy(), [2, 2])
    msg = str(rec[0].message)
    assert msg.startswith("my_kernel does not have a deterministic implementation, but you "
                          "set 'torch.use_deterministic_algorithms(True, warn_only=True)'.")


def test_accumulating_ops_are_deterministic_and_allowed():
    # ops that PyTorch flags on some device run (deterministically) in ember's CPU path
    ember.use_deterministic_algorithms(True)
    ember.manual_seed(0)
    idx = ember.randint(0, 4, (1000,))
    src = ember.randn(1000)
    a = ember.zeros(4).index_add(0, idx, src)
    b = ember.zeros(4).scatter_add(0, idx, src)
    c = ember.zeros(4).index_put((idx,), src, accumulate=True)
    for _ in range(3):
        np.testing.assert_array_equal(ember.zeros(4).index_add(0, idx, src).numpy(), a.numpy())
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(a.numpy(), c.numpy())


def test_docstring_lists_the_nondeterministic_ops():
    doc = ember.use_deterministic_algorithms.__doc__
    assert "nondeterministic: none on the CPU" in re.sub(r"\s+", " ", doc)


# --------------------------------------------------------------------------- the recipe
class _NoisyDigits(ember.utils.data.Dataset):
    """Random data with random augmentation drawn in the worker (ember's RNG)."""

    def __init__(self):
        g = ember.Generator().manual_seed(123)
        self.x = ember.randn(64, 8, generator=g)
        self.y = ember.randint(0, 3, (64,), generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i] + 0.1 * ember.randn(8), self.y[i]


def _seed_worker(worker_id):
    # ember seeds each worker from the loader's generator; other libraries need this
    seed = ember.initial_seed() % 2**32
    np.random.seed(seed)


def _run(seed, workers=2):
    ember.manual_seed(seed)
    ember.use_deterministic_algorithms(True)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    g = ember.Generator().manual_seed(seed)
    dl = ember.utils.data.DataLoader(_NoisyDigits(), batch_size=16, shuffle=True,
                                     num_workers=workers, worker_init_fn=_seed_worker,
                                     generator=g)
    losses = []
    for _ in range(2):
        for xb, yb in dl:
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return [p.detach().numpy().copy() for p in model.parameters()], losses


def test_two_seeded_runs_with_workers_are_bit_identical():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # worker-count advice on small machines
        p1, l1 = _run(7)
        p2, l2 = _run(7)
        p3, l3 = _run(8)
    assert l1 == l2
    for a, b in zip(p1, p2):
        assert a.tobytes() == b.tobytes()
    assert l1 != l3  # the seed matters: the test is not vacuous
