"""NOTE [ What a binary node saves ]: idioms that edit a result in place, which PyTorch
allows because its nodes keep only what their formulas need, work in ember too; and the
ones PyTorch refuses are still refused."""

import pytest

import ember

try:
    import torch
except ImportError:
    torch = None


def _masked_square(L):
    x = L.tensor([1.0, -2.0, 3.0, 0.5], requires_grad=True)
    sq = (x - L.tensor([0.5, 0.5, 0.5, 0.5])) ** 2
    sq[L.tensor([True, False, True, False])] = 0
    sq.sum().backward()
    return x.grad


def _nt_xent(L):
    z = L.tensor([[1.0, 0.5], [0.2, -1.0], [0.3, 0.3]], requires_grad=True)
    sim = z @ z.t() / 0.5
    sim.fill_diagonal_(float("-inf"))
    sim.logsumexp(1).sum().backward()
    return z.grad


def _scaled_item(L):
    w = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = w * 1.0
    y[0] = y[0] * 2
    y.sum().backward()
    return w.grad


def _scalar_base(L):
    w = L.tensor([0.5, 1.0], requires_grad=True)
    r = 2 ** w
    r.sum().backward()
    return w.grad


@pytest.mark.parametrize("idiom", [_masked_square, _nt_xent, _scaled_item, _scalar_base])
def test_in_place_edit_of_a_result_is_allowed(idiom):
    g = idiom(ember)
    assert g is not None and bool(ember.isfinite(g).all())
    if torch is not None:
        assert g.reshape(-1).tolist() == pytest.approx(idiom(torch).reshape(-1).tolist(),
                                                      rel=1e-6)


def test_edits_pytorch_refuses_are_still_refused():
    # exp keeps its result: editing it in place before backward is an error in both
    x = ember.tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    # 2 ** t keeps its result, as PyTorch's
    w = ember.tensor([0.5, 1.0], requires_grad=True)
    r = 2 ** w
    r.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        r.sum().backward()


def test_bool_operands_refused_as_pytorch_refuses_them():
    b = ember.tensor([True, False])
    for f, kernel in ((lambda: b ** b, "pow"), (lambda: b % b, "remainder_cpu"),
                      (lambda: ember.fmod(b, b), "fmod_cpu"), (lambda: b // b, "div_floor_cpu"),
                      (lambda: b << b, "lshift_cpu"), (lambda: b >> b, "rshift_cpu")):
        with pytest.raises(NotImplementedError, match=f'"{kernel}" not implemented for'):
            f()
    assert (b ** True).tolist() == [True, False] and (b ** True).dtype == ember.bool
    assert (b ** False).tolist() == [True, True]
    assert (b ** 2).dtype == ember.int64
