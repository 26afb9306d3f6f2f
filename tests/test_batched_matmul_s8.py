"""NOTE [ Batched products on two threads ]: stacks of small products split over two
threads give NumPy's stacked matmul bit for bit, forward and backward."""

import numpy as np
import pytest

import ember
from ember._codegen import blas


def _pair(dt, nb=40, m=70, k=130, n=60, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((nb, m, k)).astype(dt),
            rng.standard_normal((nb, k, n)).astype(dt))


def _runs_threaded(a, b):
    return blas.batched_matmul(a, b) is not None


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_bmm_baddbmm_einsum_equal_numpys_stacked_matmul(dt):
    a, b = _pair(dt)
    want = np.matmul(a, b)
    r = blas.batched_matmul(a, b)
    if r is not None:
        np.testing.assert_array_equal(r, want)
    ta, tb = ember.from_numpy(a), ember.from_numpy(b)
    np.testing.assert_array_equal(ember.bmm(ta, tb).numpy(), want)
    np.testing.assert_array_equal(ember.matmul(ta, tb).numpy(), want)
    np.testing.assert_array_equal(ember.einsum("bij,bjk->bik", ta, tb).numpy(), want)
    c = np.ones(want.shape, dt)
    got = ember.baddbmm(ember.from_numpy(c), ta, tb, beta=0.5, alpha=2.0).numpy()
    np.testing.assert_allclose(got, 0.5 * c + 2.0 * want, rtol=1e-5 if dt == "float32" else 1e-12)


def test_odd_batches_and_strided_operands():
    a, b = _pair("float32", nb=33)
    at = np.ascontiguousarray(a.transpose(0, 2, 1)).transpose(0, 2, 1)  # strided view
    r = blas.batched_matmul(at, b)
    if r is not None:
        np.testing.assert_array_equal(r, np.matmul(at, b))


def test_gradients_through_the_threaded_path():
    a, b = _pair("float64", nb=20, m=64, k=128, n=64, seed=1)
    assert not _runs_threaded(a, b) or blas._THREADS[0][0]() >= 2
    ta = ember.tensor(a, requires_grad=True)
    tb = ember.tensor(b, requires_grad=True)
    g = np.random.default_rng(2).standard_normal((20, 64, 64))
    ember.bmm(ta, tb).backward(ember.tensor(g))
    np.testing.assert_array_equal(ta.grad.numpy(), np.matmul(g, b.transpose(0, 2, 1)))
    np.testing.assert_array_equal(tb.grad.numpy(), np.matmul(a.transpose(0, 2, 1), g))


def test_declines_what_it_does_not_cover():
    a, b = _pair("float32")
    assert blas.batched_matmul(a[:1], b[:1]) is None  # one product
    assert blas.batched_matmul(a[:, :4, :4], b[:, :4, :4]) is None  # too little work
    assert blas.batched_matmul(a.astype(np.int64), b.astype(np.int64)) is None
    assert blas.batched_matmul(a, b.astype(np.float64)) is None
    big = np.ones((2, 256, 256), np.float32)
    assert blas.batched_matmul(big, big) is None  # each product large: the BLAS's threads


def test_errors_in_the_helper_thread_reach_the_caller(monkeypatch):
    a, b = _pair("float32")
    if not _runs_threaded(a, b):
        pytest.skip("no BLAS thread control or one thread")
    calls = []
    real = np.matmul

    def failing(x, y, out=None):
        calls.append(1)
        if len(calls) == 1:
            raise MemoryError("boom")
        return real(x, y, out=out)

    monkeypatch.setattr(blas.np, "matmul", failing)
    with pytest.raises(MemoryError):
        blas.batched_matmul(a, b)
    monkeypatch.undo()
    n = blas._THREADS[0][0]()
    assert n >= 2  # the BLAS's thread count was restored


def test_one_thread_windows_overlapping_restore_the_count():
    """Overlapping one-thread windows (nested, or from two Python threads) restore the BLAS's
    own count when the last one closes, not the 1 an inner window found."""
    blas.available()
    if not blas._THREADS or blas._THREADS[0] is None:
        pytest.skip("no BLAS thread control")
    get, set_ = blas._THREADS[0]
    old = get()
    set_(2)
    try:
        outer = blas.one_thread()
        inner = blas.one_thread()
        outer.__enter__()
        inner.__enter__()
        assert get() == 1
        outer.__exit__(None, None, None)  # the first to open closes first
        assert get() == 1  # the other window is still open
        inner.__exit__(None, None, None)
        assert get() == 2
        with blas.one_thread():
            with blas.one_thread():
                assert get() == 1
            assert get() == 1
        assert get() == 2
    finally:
        set_(old)
