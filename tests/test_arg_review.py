"""Arguments that ruff's ARG review (issue 17) found accepted but unused: each is now honoured
or refused. These need no oracle; PyTorch's behaviour is quoted where it decides."""

from __future__ import annotations

import pytest

import ember
from ember.testing import assert_close, make_tensor


def test_device_is_honoured_by_small_factories():
    assert ember.scalar_tensor(3.0, device="meta").device.type == "meta"
    assert ember.Tensor(2, 3, device="meta").device.type == "meta"
    assert ember.Tensor([1.0, 2.0], device="meta").shape == (2,)
    assert make_tensor(2, dtype=ember.float32, device="meta").device.type == "meta"
    assert ember.fft.fftfreq(4, device="meta").device.type == "meta"
    assert ember.fft.rfftfreq(5, device="meta").shape == (3,)
    m = ember.nn.Transformer.generate_square_subsequent_mask(3, device="meta")
    assert m.device.type == "meta" and m.shape == (3, 3)


def test_new_factories_follow_self_or_device():
    x = ember.ones(2, device="meta")
    for t in (x.new_zeros(3), x.new_ones(3), x.new_empty(3), x.new_full((3,), 1.0),
              x.new_tensor([1.0, 2.0, 3.0])):
        assert t.device.type == "meta" and t.shape == (3,)
    assert ember.ones(2).new_zeros(2, device="meta").device.type == "meta"
    assert ember.ones(2).new_zeros(2).device.type == "cpu"


def test_legacy_constructor_refuses_other_keywords():
    with pytest.raises(TypeError, match="dtype"):
        ember.Tensor(2, dtype=ember.float64)


def test_repeat_interleave_checks_output_size():
    x = ember.tensor([1, 2])
    assert ember.repeat_interleave(x, 2, output_size=4).tolist() == [1, 1, 2, 2]
    with pytest.raises(RuntimeError, match="output_size"):
        ember.repeat_interleave(x, 2, output_size=3)
    with pytest.raises(RuntimeError, match="allocated size"):
        ember.repeat_interleave(ember.tensor([1, 2]), output_size=4)


def test_layouts_other_than_strided_are_refused():
    with pytest.raises(NotImplementedError, match="layout"):
        ember.signal.windows.hann(4, layout=ember.sparse_coo)
    with pytest.raises(NotImplementedError, match="layout"):
        ember.fft.fftfreq(4, layout=ember.sparse_coo)
    assert ember.signal.windows.hann(4, layout=ember.strided).shape == (4,)


def test_svd_driver_is_refused_on_the_cpu_as_pytorch_does():
    a = ember.eye(2)
    with pytest.raises(RuntimeError, match="driver"):
        ember.linalg.svd(a, driver="gesvd")
    with pytest.raises(RuntimeError, match="driver"):
        ember.linalg.svdvals(a, driver="gesvd")
    assert ember.linalg.svdvals(a).tolist() == [1.0, 1.0]


def test_assert_close_flags():
    assert_close(ember.ones(4)[::2], ember.ones(2))  # strides are not compared by default
    with pytest.raises(AssertionError, match="stride"):
        assert_close(ember.ones(4)[::2], ember.ones(2), check_stride=True)
    with pytest.raises(AssertionError, match="type equality"):
        assert_close(ember.ones(2), ember.nn.Parameter(ember.ones(2)), allow_subclasses=False)
    assert_close(ember.ones(2), ember.nn.Parameter(ember.ones(2)))
    with pytest.raises(AssertionError, match="device"):
        assert_close(ember.ones(2), ember.ones(2, device="meta"))
    with pytest.raises(AssertionError, match="stride"):  # flags reach nested sequences
        assert_close([ember.ones(4)[::2]], [ember.ones(2)], check_stride=True)
