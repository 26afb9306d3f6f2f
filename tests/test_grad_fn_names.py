"""``type(t.grad_fn).__name__`` against PyTorch's, for every op-table entry (issue 17, item 6).

Logging and graph-printing code reads the node's class name, so it must be PyTorch's: the
overload's own node (``sum(x)`` is SumBackward0, ``sum(x, 0)`` SumBackward1; ``t ** 2``
PowBackward0, ``t ** t`` PowBackward1, ``2 ** t`` PowBackward2) and the node of the last step
that changed a view (``x[0]`` SelectBackward0, ``x[None]`` UnsqueezeBackward0). NOTE [ Node
names ] in ``ember/_graph.py`` says how ember names its nodes.

Every sample of every differentiable entry (float64, else float32) runs in ember and in
PyTorch with its float arrays as leaves that require grad; the grad_fn of the (first) output
is compared by class name. Calls that raise in either framework are the error sweep's
business and are skipped. What still differs is listed in ``KNOWN``, with the reason, as
``(entry, ember's name, PyTorch's name)``; the list is strict: a listed difference that no
longer occurs fails too. ``python tests/test_grad_fn_names.py`` prints every difference.
"""

from __future__ import annotations

import warnings

import pytest

import ember
from op_db import F32, F64, OP_DB
from test_ops import _arrays, _to_ember, _to_torch, call, samples

try:  # the oracle; test_overload_names runs without it
    import torch
except ImportError:
    torch = None

# Reasons shared by several rows.
_MM = ("one matrix-product record serves mm, mv, dot, bmm and matmul (PyTorch has a node "
       "per overload and reshapes around mm for batched matmul)")
_FUSED = ("composite in ember (built from add/mul/mm), one fused node in PyTorch; a single "
          "record would be needed")
_EINSUM = "one einsum record in ember; PyTorch decomposes einsum into permute/mul/sum/view"

KNOWN: dict[tuple[str, str, str], str] = {
    ("__matmul__", "MmBackward0", "DotBackward0"): _MM,
    ("__matmul__", "MmBackward0", "MvBackward0"): _MM,
    ("__matmul__", "MmBackward0", "SqueezeBackward4"): _MM,
    ("__matmul__", "MmBackward0", "UnsafeViewBackward0"): _MM,
    ("matmul", "MmBackward0", "DotBackward0"): _MM,
    ("matmul", "MmBackward0", "MvBackward0"): _MM,
    ("matmul", "MmBackward0", "SqueezeBackward4"): _MM,
    ("matmul", "MmBackward0", "UnsafeViewBackward0"): _MM,
    ("mv", "MmBackward0", "MvBackward0"): _MM,
    ("dot", "MmBackward0", "DotBackward0"): _MM,
    ("bmm", "MmBackward0", "BmmBackward0"): _MM,
    ("addmm", "AddBackward0", "AddmmBackward0"): _FUSED,
    ("addmm", "MmBackward0", "AddmmBackward0"): _FUSED,
    ("addmv", "AddBackward0", "AddmvBackward0"): _FUSED,
    ("addmv", "MmBackward0", "AddmvBackward0"): _FUSED,
    ("baddbmm", "AddBackward0", "BaddbmmBackward0"): _FUSED,
    ("baddbmm", "MmBackward0", "BaddbmmBackward0"): _FUSED,
    ("addcdiv", "AddBackward0", "AddcdivBackward0"): _FUSED,
    ("addcmul", "AddBackward0", "AddcmulBackward0"): _FUSED,
    ("lerp", "AddBackward0", "LerpBackward1"): _FUSED,
    ("masked_fill", "WhereBackward0", "MaskedFillBackward0"): _FUSED,
    ("masked_fill", "WhereBackward0", "MaskedFillBackward1"): _FUSED,
    ("nan_to_num", "WhereBackward0", "NanToNumBackward0"): _FUSED,
    ("aminmax", "AminBackward0", "AminmaxBackward0"): ("aminmax is amin and amax in ember, "
                                                       "one two-output node in PyTorch"),
    ("var_mean", "VarBackward0", "VarMeanBackward0"): ("var and mean records in ember, one "
                                                       "two-output node in PyTorch"),
    ("std_mean", "StdBackward0", "StdMeanBackward0"): ("std and mean records in ember, one "
                                                       "two-output node in PyTorch"),
    ("einsum", "EinsumBackward0", "MulBackward0"): _EINSUM,
    ("einsum", "EinsumBackward0", "PermuteBackward0"): _EINSUM,
    ("einsum", "EinsumBackward0", "SumBackward1"): _EINSUM,
    ("einsum", "EinsumBackward0", "ViewBackward0"): _EINSUM,
    ("__rsub__", "SubBackward0", "RsubBackward1"): (
        "2 - t is sub with the number first (the binary family's node, which saves nothing "
        "and so never reaches the scalar branch that renames pow's); PyTorch has rsub"),
    ("__rtruediv__", "DivBackward0", "MulBackward0"): (
        "2 / t is one div node here; PyTorch computes t.reciprocal() * 2"),
    ("__setitem__", "IndexPutBackward0", "CopySlices"): (
        "x[int or slice] = v is one index_put node in ember; PyTorch copies into a view "
        "of x and records CopySlices"),
    ("stack", "CatBackward0", "StackBackward0"): "stack is unsqueeze + cat in ember",
    ("roll", "ViewBackward0", "RollBackward0"): ("roll without dims is flatten, roll and a "
                                                 "view back to the shape in ember"),
    ("cumsum", "ViewBackward0", "CumsumBackward0"): "cumsum of a 0-dim input is a view here",
}


def _first(y):
    while isinstance(y, (tuple, list)) and y:
        y = y[0]
    return y


def _name(y):
    fn = getattr(y, "grad_fn", None)
    if isinstance(fn, tuple):  # ember's multi-output grad_fn
        fn = fn[0]
    return "None" if fn is None else type(fn).__name__


def compare():
    """(entry, ember name, PyTorch name) -> sample descriptions, for the calls both make;
    and the number of calls compared."""
    rows, n = {}, 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for info in OP_DB:
            if not info.differentiable:
                continue
            dt = F64 if F64 in info.dtypes else F32 if F32 in info.dtypes else None
            if dt is None:
                continue
            try:
                ss = samples(info, dt)
            except Exception:  # noqa: BLE001 - entries without float samples
                continue
            for s in ss:
                arrs = _arrays(s, lambda a: a.dtype.kind == "f")
                if not arrs:
                    continue
                el = {id(a): _to_ember(a).requires_grad_(True) for a in arrs}
                # both frameworks get the sample's layout (a transposed input stays so)
                tl = {id(a): _to_torch(a).requires_grad_(True) for a in arrs}
                try:
                    ye = _first(call(info, ember, s, _to_ember, el))
                    yt = _first(call(info, torch, s, _to_torch, tl))
                except Exception:  # noqa: BLE001 - a refused call: the error sweep's business
                    continue
                if not isinstance(ye, ember.Tensor) or not isinstance(yt, torch.Tensor):
                    continue
                n += 1
                key = (info.name, _name(ye), _name(yt))
                rows.setdefault(key, []).append(s.desc)
    return rows, n


@pytest.fixture(scope="module")
def table():
    pytest.importorskip("torch")
    return compare()


def _differ(rows):
    return {k: v for k, v in rows.items() if k[1] != k[2]}


def test_enough_calls_compared(table):
    rows, n = table
    same = sum(len(v) for k, v in rows.items() if k[1] == k[2])
    print(f"\ngrad_fn names: {n} calls, {same} named as PyTorch names them, "
          f"{len(_differ(rows))} (entry, ember, PyTorch) differences listed")
    assert n >= 800 and same >= 0.85 * n


def test_names_match_pytorch(table):
    bad = {k: v for k, v in _differ(table[0]).items() if k not in KNOWN}
    assert not bad, "\n".join(f"{e}: ember {a} / PyTorch {b} ({v[0]})"
                              for (e, a, b), v in sorted(bad.items()))


def test_known_differences_still_differ(table):
    gone = sorted(k for k in KNOWN if k not in _differ(table[0]))
    assert not gone, f"fixed, remove from KNOWN: {gone}"


def test_overload_names():
    """The overloads the issue named, spelled out (no oracle needed)."""
    x = ember.rand(3, 4, requires_grad=True)

    def nm(t):
        return type(t.grad_fn).__name__

    assert nm(x.min(1).values) == "MinBackward0" and nm(x.max(1)[0]) == "MaxBackward0"
    assert nm(x.max()) == "MaxBackward1" and nm(x.min()) == "MinBackward1"
    assert nm(x.amin(0)) == "AminBackward0" and nm(x.amax(0)) == "AmaxBackward0"
    assert nm(x.sum()) == "SumBackward0" and nm(x.sum(0)) == "SumBackward1"
    assert nm(x ** 2) == "PowBackward0" and nm(x ** x) == "PowBackward1"
    assert nm(2 ** x) == "PowBackward2"
    assert nm(x.std()) == "StdBackward0" and nm(x.var()) == "VarBackward0"
    assert nm(x[0]) == "SelectBackward0" and nm(x[:, 1:]) == "SliceBackward0"
    # names survive an in-place edit of the base (the view's node is replayed)
    y = x * 1
    v = y[0]
    y.mul_(2)
    assert nm(v) == "SelectBackward0"


@pytest.mark.parametrize("spell, name", [
    (lambda y: y.squeeze(1), "SqueezeBackward1"),
    (lambda y: y.squeeze(), "SqueezeBackward0"),
    (lambda y: y.squeeze((1,)), "SqueezeBackward2"),
    (lambda y: y.unsqueeze(0), "UnsqueezeBackward0"),
    (lambda y: y.expand(2, 1, 3), "ExpandBackward0"),
    (lambda y: y[:, 0].t(), "TBackward0"),
    (lambda y: y[0, 0, 0].t(), "TBackward0"),
    (lambda y: y.transpose(0, 2), "TransposeBackward0"),
    (lambda y: y.view(6), "ViewBackward0"),
])
def test_spelled_view_names_survive_an_inplace_edit_of_the_base(spell, name):
    # NOTE [ Spellings of one view record ]: the name is the record's attribute, so the view
    # replayed on the rewritten base (NOTE [ In-place on views ]) gets it back
    x = ember.rand(2, 1, 3, requires_grad=True)
    y = x * 1
    v = spell(y)
    assert type(v.grad_fn).__name__ == name
    y.mul_(2)
    (v * 1).sum().backward()  # uses v: its history is replayed on y's new one
    assert type(v.grad_fn).__name__ == name
    x2 = x.detach().requires_grad_()
    spell(x2 * 2).sum().backward()  # the same function without the in-place step
    assert x.grad.tolist() == x2.grad.tolist()


if __name__ == "__main__":
    r, count = compare()
    print(f"{count} calls")
    for (e, a, b), v in sorted(_differ(r).items()):
        flag = "" if (e, a, b) in KNOWN else "  NEW"
        print(f"{e:24s} {a:22s} {b:22s} {len(v):3d} {v[0]}{flag}")
