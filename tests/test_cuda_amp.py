"""torch.cuda.amp spellings and legacy type conversions, as CUDA scripts use them on a
machine without a GPU (PyTorch's behaviour there: warn and disable)."""

import warnings

import pytest

import ember


def test_cuda_amp_disables_itself_without_cuda():
    with pytest.warns(FutureWarning, match="torch.amp.GradScaler"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            scaler = ember.cuda.amp.GradScaler()
    assert not scaler.is_enabled()
    loss = ember.ones(1, requires_grad=True).sum()
    assert scaler.scale(loss) is loss  # a disabled scaler passes values through
    with pytest.warns(UserWarning, match="Disabling autocast"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            ctx = ember.cuda.amp.autocast()
    with ctx:
        assert (ember.ones(2) + 1).dtype == ember.float32
    from ember.cuda.amp import autocast  # noqa: F401  (importable as a module path)


def test_autocast_cpu_enabled_is_honoured_not_ignored():
    with ember.autocast("cpu", dtype=ember.bfloat16):
        assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype == ember.bfloat16


def test_type_accepts_legacy_types():
    t = ember.ones(2, dtype=ember.float64)
    assert t.type(ember.FloatTensor).dtype == ember.float32
    assert t.type(ember.LongTensor).dtype == ember.int64
