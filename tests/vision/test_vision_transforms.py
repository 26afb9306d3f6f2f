"""ember.vision.transforms: hard-coded expectations, NumPy references, and (when installed)
PyTorch's interpolate as the oracle for Resize."""

import numpy as np
import pytest

import ember
from ember.vision import transforms as T
from ember.vision.transforms import functional as F


def test_to_tensor_uint8_float_and_gray():
    img = np.array([[[0, 255, 51]], [[102, 0, 255]]], dtype=np.uint8)  # H=2, W=1, C=3
    t = T.ToTensor()(img)
    assert t.dtype == ember.float32 and t.shape == (3, 2, 1)
    np.testing.assert_allclose(t.numpy()[:, :, 0], [[0, 0.4], [1, 0], [0.2, 1]], rtol=1e-6)
    gray = T.ToTensor()(np.full((4, 5), 255, np.uint8))
    assert gray.shape == (1, 4, 5) and float(gray.min()) == 1.0
    f64 = T.ToTensor()(np.full((2, 2, 1), 3.5))  # non-uint8 keeps dtype and values
    assert f64.dtype == ember.float64 and float(f64[0, 0, 0]) == 3.5
    with pytest.raises(TypeError, match="PIL Image or ndarray"):
        T.ToTensor()([1, 2])
    with pytest.raises(ValueError, match="2/3 dimensional"):
        T.ToTensor()(np.zeros((1, 2, 3, 4), np.uint8))


def test_to_tensor_accepts_pil_when_installed():
    Image = pytest.importorskip("PIL.Image")
    arr = np.random.default_rng(0).integers(0, 256, (3, 4, 3), dtype=np.uint8)
    np.testing.assert_allclose(T.ToTensor()(Image.fromarray(arr)).numpy(),
                               arr.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    flipped = T.RandomHorizontalFlip(p=1.0)(Image.fromarray(arr))
    np.testing.assert_array_equal(np.asarray(flipped), arr[:, ::-1])


def test_normalize_values_inplace_and_errors():
    x = ember.ones(2, 2, 2)
    y = T.Normalize((0.5, 0.25), (0.5, 0.25))(x)
    np.testing.assert_allclose(y.numpy()[:, 0, 0], [1.0, 3.0])
    assert float(x.sum()) == 8.0  # not modified
    T.Normalize((1.0,), (2.0,), inplace=True)(x)
    assert float(x.sum()) == 0.0
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize((0,), (1,))(ember.zeros(1, 2, 2, dtype=ember.uint8))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0,), (0,))(ember.zeros(1, 2, 2))
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\)"):
        T.Normalize((0,), (1,))(ember.zeros(2, 2))


def test_normalize_is_differentiable():
    x = ember.ones(1, 2, 2, requires_grad=True)
    T.Normalize((0.0,), (0.5,))(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((1, 2, 2), 2.0))


def test_compose_and_repr():
    t = T.Compose([T.CenterCrop(2), T.ToTensor(), T.Normalize((0.5,), (0.5,))])
    out = t(np.full((4, 4), 255, np.uint8))
    assert out.shape == (1, 2, 2) and float(out.min()) == 1.0
    assert repr(t).splitlines()[0] == "Compose(" and "Normalize(mean=(0.5,)" in repr(t)


def test_center_crop_matches_slicing_and_pads():
    img = np.arange(5 * 6).reshape(5, 6)
    np.testing.assert_array_equal(T.CenterCrop((3, 2))(img), img[1:4, 2:4])
    t = ember.arange(30).reshape(1, 5, 6)
    np.testing.assert_array_equal(T.CenterCrop(3)(t).numpy()[0], img[1:4, 2:5])
    padded = T.CenterCrop(4)(np.ones((2, 2)))
    np.testing.assert_array_equal(padded, np.pad(np.ones((2, 2)), 1))


def test_random_crop_padding_and_reproducibility():
    img = np.arange(4 * 4 * 3, dtype=np.uint8).reshape(4, 4, 3)
    rc = T.RandomCrop(4, padding=2)
    ember.manual_seed(3)
    a = [rc(img) for _ in range(5)]
    ember.manual_seed(3)
    b = [rc(img) for _ in range(5)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))  # manual_seed reproduces
    padded = np.pad(img, ((2, 2), (2, 2), (0, 0)))
    for out in a:  # every output is a 4x4 window of the padded image
        assert out.shape == (4, 4, 3)
        assert any(np.array_equal(out, padded[i:i + 4, j:j + 4]) for i in range(5)
                   for j in range(5))
    assert T.RandomCrop((6, 5), pad_if_needed=True)(img).shape == (6, 5, 3)
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop(5)(img)
    edge = T.RandomCrop(6, padding=1, padding_mode="edge")(ember.ones(2, 4, 4))
    assert float(edge.min()) == 1.0 and edge.shape == (2, 6, 6)


def test_random_crop_covers_positions():
    ember.manual_seed(0)
    tops = {int(T.RandomCrop(1)(np.arange(3).reshape(3, 1))[0, 0]) for _ in range(60)}
    assert tops == {0, 1, 2}


def test_flips():
    t = ember.tensor([[[1.0, 2.0, 3.0]]])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(t).numpy(), [[[3, 2, 1]]])
    assert T.RandomHorizontalFlip(p=0.0)(t) is t
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(np.array([[1], [2]])),
                                  [[2], [1]])
    ember.manual_seed(0)
    flips = sum(T.RandomHorizontalFlip()(np.array([[0, 1]]))[0, 0] for _ in range(200))
    assert 70 < flips < 130


def test_pad_modes_against_numpy():
    img = np.arange(12, dtype=np.float32).reshape(3, 4)
    for mode, np_mode in [("edge", "edge"), ("reflect", "reflect"), ("symmetric", "symmetric")]:
        np.testing.assert_array_equal(T.Pad((1, 2), padding_mode=mode)(img),
                                      np.pad(img, ((2, 2), (1, 1)), mode=np_mode))
    out = F.pad(np.zeros((2, 2, 3), np.uint8), [1, 0, 0, 0], fill=(1, 2, 3))
    np.testing.assert_array_equal(out[0, 0], [1, 2, 3])
    with pytest.raises(ValueError, match="Padding mode"):
        T.Pad(1, padding_mode="wrap")


def test_resize_sizes_and_hand_values():
    t = ember.zeros(3, 10, 20)
    assert T.Resize(5)(t).shape == (3, 5, 10)  # smaller edge
    assert T.Resize((4, 7))(t).shape == (3, 4, 7)
    assert T.Resize(5, max_size=8)(t).shape == (3, 4, 8)
    assert T.Resize(6)(np.zeros((12, 9, 3), np.uint8)).shape == (8, 6, 3)
    # 2x bilinear upsample of [0, 1] with half-pixel centres: 0, .25, .75, 1
    up = T.Resize((1, 4))(ember.tensor([[[0.0, 1.0]]]))
    np.testing.assert_allclose(up.numpy()[0, 0], [0, 0.25, 0.75, 1])
    near = T.Resize((1, 4), interpolation=T.InterpolationMode.NEAREST)(np.array([[1, 2]]))
    np.testing.assert_array_equal(near, [[1, 1, 2, 2]])
    # antialiased 2x downscale: a triangle filter twice as wide, taps (.25, .75, .75[, .25])
    # normalised by their sum (1.75 at the borders)
    down = F.resize(ember.tensor([[[0.0, 2.0, 4.0, 6.0]]]), (1, 2))
    np.testing.assert_allclose(down.numpy()[0, 0], [10 / 7, 32 / 7], rtol=1e-6)
    plain = F.resize(ember.tensor([[[0.0, 2.0, 4.0, 6.0]]]), (1, 2), antialias=False)
    np.testing.assert_allclose(plain.numpy()[0, 0], [1.0, 5.0])
    with pytest.raises(ValueError, match="max_size"):
        T.Resize((4, 4), max_size=5)(t)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest", "nearest-exact"])
@pytest.mark.parametrize("antialias", [False, True])
def test_resize_matches_torch_interpolate(mode, antialias):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).random((2, 3, 13, 17)).astype(np.float32)
    aa = antialias and mode in ("bilinear", "bicubic")
    for size in [(5, 7), (26, 40), (13, 30), (8, 17)]:
        got = F.resize(ember.from_numpy(x), size, mode, antialias=antialias).numpy()
        ref = torch.nn.functional.interpolate(torch.from_numpy(x), size=size, mode=mode,
                                              antialias=aa).numpy()
        np.testing.assert_allclose(got, ref, atol=2e-5)


def test_resize_uint8_rounds_like_float_path():
    x = np.random.default_rng(2).integers(0, 256, (3, 11, 9), dtype=np.uint8)
    got = F.resize(ember.from_numpy(x), (5, 4)).numpy()
    ref = F.resize(ember.from_numpy(x.astype(np.float32)), (5, 4)).numpy()
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, np.clip(np.round(ref), 0, 255))


def test_random_resized_crop_and_lambda():
    ember.manual_seed(0)
    out = T.RandomResizedCrop(8, scale=(0.5, 1.0))(np.zeros((16, 20, 3), np.uint8))
    assert out.shape == (8, 8, 3)
    i, j, h, w = T.RandomResizedCrop.get_params(np.zeros((10, 10)), (1.0, 1.0), (1.0, 1.0))
    assert (i, j, h, w) == (0, 0, 10, 10)
    assert T.Lambda(lambda v: v + 1)(1) == 2
    with pytest.raises(TypeError, match="callable"):
        T.Lambda(3)


def test_convert_image_dtype():
    u8 = ember.tensor([0, 128, 255], dtype=ember.uint8)
    np.testing.assert_allclose(T.ConvertImageDtype(ember.float32)(u8).numpy(),
                               [0, 128 / 255, 1], rtol=1e-6)
    back = F.convert_image_dtype(ember.tensor([0.0, 0.5, 1.0]), ember.uint8)
    np.testing.assert_array_equal(back.numpy(), [0, 127, 255])
    np.testing.assert_array_equal(F.convert_image_dtype(u8, ember.int16).numpy(),
                                  [0, 128 * 128, 255 * 128])
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(ember.zeros(2), ember.int32)


def test_transforms_reject_non_images():
    with pytest.raises(TypeError, match="img should be"):
        T.CenterCrop(2)([1, 2, 3])
    with pytest.raises(TypeError, match="at least 2 dimensions"):
        F.hflip(ember.zeros(3))
