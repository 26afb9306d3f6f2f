"""Views are views, copies are copies (issue 17).

Every op in PyTorch's "Tensor Views" list returns a view in ember: writes go through in both
directions, ``_base`` names the tensor owning the memory, ``data_ptr``/``untyped_storage``
agree, and gradients flow through in-place writes to the view. Ops PyTorch documents as
copying (``repeat``, ``tile``, ``flatten``/``reshape`` of non-contiguous input, ``diag``)
return fresh, writable, non-overlapping memory."""

import numpy as np
import pytest

import ember


def _root(t):
    return t._base if t._base is not None else t


# name -> (make the base, take the view). Bases are fresh leaves that own their memory.
VIEWS = {
    "diagonal": (lambda: ember.arange(12.0).reshape(3, 4).clone(), lambda t: t.diagonal()),
    "diagonal_offset_dims": (lambda: ember.arange(24.0).reshape(2, 3, 4).clone(),
                             lambda t: ember.diagonal(t, -1, 2, 1)),
    "as_strided": (lambda: ember.arange(12.0), lambda t: t.as_strided((2, 3), (1, 2), 1)),
    "expand": (lambda: ember.arange(3.0), lambda t: t.expand(2, 3)),
    "expand_as": (lambda: ember.arange(3.0), lambda t: t.expand_as(ember.empty(4, 3))),
    "broadcast_to": (lambda: ember.arange(3.0), lambda t: ember.broadcast_to(t, (2, 3))),
    "narrow": (lambda: ember.arange(12.0).reshape(3, 4).clone(), lambda t: t.narrow(1, 1, 2)),
    "permute": (lambda: ember.arange(24.0).reshape(2, 3, 4).clone(),
                lambda t: t.permute(2, 0, 1)),
    "select": (lambda: ember.arange(12.0).reshape(3, 4).clone(), lambda t: t.select(1, 2)),
    "squeeze": (lambda: ember.arange(4.0).reshape(4, 1).clone(), lambda t: t.squeeze()),
    "unsqueeze": (lambda: ember.arange(4.0), lambda t: t.unsqueeze(1)),
    "t": (lambda: ember.arange(6.0).reshape(2, 3).clone(), lambda t: t.t()),
    "T": (lambda: ember.arange(6.0).reshape(2, 3).clone(), lambda t: t.T),
    "H": (lambda: ember.arange(6.0).reshape(2, 3).clone(), lambda t: t.H),
    "mT": (lambda: ember.arange(24.0).reshape(2, 3, 4).clone(), lambda t: t.mT),
    "mH": (lambda: ember.arange(24.0).reshape(2, 3, 4).clone(), lambda t: t.mH),
    "adjoint": (lambda: ember.arange(6.0).reshape(2, 3).clone(), lambda t: t.adjoint()),
    "transpose": (lambda: ember.arange(24.0).reshape(2, 3, 4).clone(),
                  lambda t: t.transpose(0, 2)),
    "swapaxes": (lambda: ember.arange(6.0).reshape(2, 3).clone(), lambda t: t.swapaxes(0, 1)),
    "swapdims": (lambda: ember.arange(6.0).reshape(2, 3).clone(), lambda t: t.swapdims(1, 0)),
    "movedim": (lambda: ember.arange(24.0).reshape(2, 3, 4).clone(),
                lambda t: t.movedim(0, 2)),
    "moveaxis": (lambda: ember.arange(24.0).reshape(2, 3, 4).clone(),
                 lambda t: ember.moveaxis(t, 0, -1)),
    "unflatten": (lambda: ember.arange(12.0).reshape(3, 4).clone(),
                  lambda t: t.unflatten(1, (2, 2))),
    "unfold": (lambda: ember.arange(12.0), lambda t: t.unfold(0, 3, 3)),
    "view": (lambda: ember.arange(12.0), lambda t: t.view(3, 4)),
    "view_dtype": (lambda: ember.arange(4.0), lambda t: t.view(ember.int32)),
    "view_as": (lambda: ember.arange(12.0), lambda t: t.view_as(ember.empty(4, 3))),
    "reshape_contiguous": (lambda: ember.arange(12.0), lambda t: t.reshape(2, 6)),
    "flatten_contiguous": (lambda: ember.arange(12.0).reshape(3, 4).clone(),
                           lambda t: t.flatten()),
    "view_as_real": (lambda: ember.randn(3, dtype=ember.complex64),
                     lambda t: ember.view_as_real(t)),
    "view_as_complex": (lambda: ember.randn(3, 2), lambda t: ember.view_as_complex(t)),
    "real": (lambda: ember.randn(3, dtype=ember.complex64), lambda t: t.real),
    "imag": (lambda: ember.randn(3, dtype=ember.complex64), lambda t: t.imag),
    "unbind": (lambda: ember.arange(12.0).reshape(3, 4).clone(), lambda t: t.unbind(1)[2]),
    "split": (lambda: ember.arange(12.0), lambda t: t.split(5)[1]),
    "split_with_sizes": (lambda: ember.arange(12.0), lambda t: t.split_with_sizes([3, 9])[1]),
    "tensor_split": (lambda: ember.arange(12.0), lambda t: t.tensor_split(3)[1]),
    "hsplit": (lambda: ember.arange(12.0).reshape(3, 4).clone(), lambda t: t.hsplit(2)[1]),
    "vsplit": (lambda: ember.arange(12.0).reshape(4, 3).clone(), lambda t: t.vsplit(2)[1]),
    "dsplit": (lambda: ember.arange(24.0).reshape(2, 3, 4).clone(), lambda t: t.dsplit(2)[1]),
    "chunk": (lambda: ember.arange(12.0), lambda t: t.chunk(3)[2]),
    "detach": (lambda: ember.arange(4.0), lambda t: t.detach()),
    "basic_indexing": (lambda: ember.arange(24.0).reshape(2, 3, 4).clone(),
                       lambda t: t[1, :, 1:3]),
    "alias_of_view": (lambda: ember.arange(12.0).reshape(3, 4).clone(),
                      lambda t: t.t().diagonal()),
}
READ_ONLY = {"expand", "expand_as", "broadcast_to"}  # overlapping memory: writes are refused


def _first_index(v):
    return (0,) * v.dim()


@pytest.mark.parametrize("name", list(VIEWS))
def test_view_shares_memory_both_ways(name):
    make, take = VIEWS[name]
    base = make()
    v = take(base)
    if name == "detach":  # PyTorch: shares memory, but is not a view (its _base is None)
        assert v._base is None
    else:
        assert _root(v) is base, f"{name}: _base is {v._base!r:.40}"
    assert np.shares_memory(v.numpy(), base.numpy())
    if hasattr(v, "untyped_storage") and name not in ("detach",):
        assert v.untyped_storage().data_ptr() == base.untyped_storage().data_ptr()
    # base -> view: a write to the base shows in the view
    before = v.clone()
    base.add_(1) if not base.is_complex() else base.add_(1 + 1j)
    assert not ember.equal(v, before), f"{name}: a write to the base did not reach the view"
    if name in READ_ONLY:
        with pytest.raises(RuntimeError):
            v.add_(1)
        return
    # view -> base: a write through the view shows in the base
    before = base.clone()
    v[_first_index(v)] = 100
    assert not ember.equal(base, before), f"{name}: a write to the view did not reach the base"
    # and the version counter is shared
    ver = base._version
    v.mul_(1)
    assert base._version > ver


@pytest.mark.parametrize("name", sorted(set(VIEWS) - READ_ONLY - {"view_dtype", "detach"}))
def test_gradient_through_a_write_to_the_view(name):
    make, take = VIEWS[name]
    base0 = make()
    dt = ember.complex128 if base0.is_complex() else ember.float64
    leaf = base0.to(dt).requires_grad_(True)
    y = leaf * 1  # a non-leaf base, so the view may be written under autograd
    v = take(y)
    v.mul_(3)
    loss = (y.abs() ** 2).sum() if y.is_complex() else (y * y).sum()
    loss.backward()
    if name in ("view_as_real", "view_as_complex", "real", "imag"):
        # Complex <-> real views: the gradient reaches the leaf (values are checked against
        # PyTorch in test_complex_views_gradient_matches_pytorch).
        assert leaf.grad is not None and bool(ember.isfinite(leaf.grad).all())
        return
    # reference: the same computation with the view's footprint as a mask
    mask = ember.zeros(base0.shape, dtype=ember.float64)
    take(mask).fill_(1)
    factor = 1 + 8 * mask  # d(3x)^2/dx = 18x where the view is, 2x elsewhere
    expected = 2 * leaf.detach() * factor
    assert ember.allclose(leaf.grad, expected), name


def test_diagonal_is_a_view_with_pytorch_values_and_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for shape, off, d1, d2 in [((3, 4), 0, 0, 1), ((3, 4), 2, 0, 1), ((3, 4), -2, 1, 0),
                               ((2, 3, 4), 1, 0, 2), ((2, 3, 4), -1, 2, 1), ((3, 4), 9, 0, 1)]:
        a = rng.standard_normal(shape)
        x, tx = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, ty = x.diagonal(off, d1, d2), tx.diagonal(off, d1, d2)
        assert tuple(y.shape) == tuple(ty.shape)
        assert y.numel() == 0 or y.stride() == ty.stride()
        np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
        g = rng.standard_normal(tuple(ty.shape))
        y.backward(ember.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("name", ["view_as_real", "real", "imag"])
def test_complex_views_gradient_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(2).standard_normal(3) + 1j * np.arange(3.0)
    grads = []
    for lib in (ember, torch):
        leaf = lib.tensor(a, requires_grad=True)
        y = leaf * 1
        v = lib.view_as_real(y) if name == "view_as_real" else getattr(y, name)
        v.mul_(3)
        (y.abs() ** 2).sum().backward()
        grads.append(np.asarray(leaf.grad.detach().numpy()))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_diagonal_gradcheck_and_gradgradcheck():
    x = ember.randn(3, 4, 2, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: t.diagonal(1, 0, 1), (x,))
    assert ember.autograd.gradgradcheck(lambda t: t.diagonal(-1, 2, 0) ** 2, (x,))


def test_as_strided_addresses_the_memory_block_like_pytorch():
    torch = pytest.importorskip("torch")
    cases = [lambda t: t.as_strided((2, 2), (1, 2)), lambda t: t[1:].as_strided((2, 2), (1, 2)),
             lambda t: t[1:].as_strided((2, 2), (1, 2), 0), lambda t: t.t().as_strided((3,), (4,)),
             lambda t: t[:, 1].as_strided((2,), (1,))]
    for f in cases:
        assert f(ember.arange(12.0).reshape(3, 4)).tolist() == \
            f(torch.arange(12.0).reshape(3, 4)).tolist()
    w = ember.randn(3, 4, requires_grad=True)
    tw = torch.tensor(w.detach().numpy(), requires_grad=True)
    w[1:].as_strided((2, 2), (1, 2)).sum().backward()
    tw[1:].as_strided((2, 2), (1, 2)).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), tw.grad.numpy())
    with pytest.raises(RuntimeError, match="as_strided"):
        ember.arange(4.0).as_strided((3,), (2,))


# ------------------------------------------------------------------ copies
COPIES = {
    "repeat": lambda t: t.repeat(2, 1),
    "repeat_ones": lambda t: t.repeat(1, 1),
    "repeat_more_dims": lambda t: t.repeat(2, 1, 1),
    "tile_int": lambda t: t.tile(2),
    "tile_tuple": lambda t: t.tile((2, 1)),
    "tile_ones": lambda t: ember.tile(t, (1,)),
    "flatten_noncontiguous": lambda t: t.t().flatten(),
    "reshape_noncontiguous": lambda t: t.t().reshape(-1),
    "ravel_noncontiguous": lambda t: t.t().ravel(),
    "diag": lambda t: ember.diag(t),
    "clone": lambda t: t.clone(),
}


@pytest.mark.parametrize("name", list(COPIES))
def test_copies_are_fresh_writable_memory(name):
    base = ember.arange(6.0).reshape(2, 3).clone()
    c = COPIES[name](base)
    arr = c.numpy()
    assert not np.shares_memory(arr, base.numpy()), name
    assert c._base is None or not np.shares_memory(c._base.numpy(), base.numpy())
    assert arr.flags.writeable and 0 not in arr.strides[:arr.ndim] or arr.size <= 1
    before = base.clone()
    c.add_(1)  # writable, no overlapping elements, and the input is untouched
    assert ember.equal(base, before)


def test_repeat_and_tile_match_pytorch_values_and_gradients():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(1).standard_normal((2, 3))
    for f in (lambda t: t.repeat(2, 1, 2), lambda t: t.repeat(1, 1), lambda t: t.tile(2),
              lambda t: t.tile((3, 1, 1)), lambda t: t[0].repeat(0, 2)):
        x, tx = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, ty = f(x), f(tx)
        np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
        g = np.arange(ty.numel(), dtype=np.float64).reshape(tuple(ty.shape))
        y.backward(ember.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    assert ember.autograd.gradcheck(lambda t: t.repeat(2, 3),
                                    (ember.tensor(a, requires_grad=True),))


def test_repeat_result_trains_with_adam():
    # The report: a parameter built by repeat() must be writable by an optimizer.
    p = ember.nn.Parameter(ember.eye(2, 3)[None].repeat(4, 1, 1))
    opt = ember.optim.Adam([p], lr=0.1)
    (p ** 2).sum().backward()
    opt.step()
    assert p.shape == (4, 2, 3) and bool((p.detach() != ember.eye(2, 3)).any())
    with pytest.raises(RuntimeError, match="repeat"):
        ember.ones(2, 2).repeat(2)
