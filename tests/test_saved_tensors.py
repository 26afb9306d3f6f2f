"""What a node keeps for backward, compared with PyTorch's (issue 17, item 2).

For every op-table entry with a PyTorch counterpart and a float64 sample, the first sample runs
in ember and in PyTorch with its float arrays as leaves that require grad. The node that made
the (first) output is inspected:

* ember: ``Node.saved`` (the saved inputs) and ``Node.out`` (the saved output);
* PyTorch: the ``grad_fn._saved_*`` attributes that hold tensors, matched to the leaves and to
  the output by storage.

Each side gives a set drawn from ``in0, in1, ...`` (the leaves, in the sample's order), ``out``
and ``other`` (a saved tensor that is neither, e.g. a converted copy). The sets must be equal,
or the entry is listed in ``KNOWN`` with what differs; entries whose top node is not the same
operation in both (a composite in one, a fused node in the other: the node names differ) are
not comparable and are counted separately. ``python tests/test_saved_tensors.py`` prints the
table.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from op_db import F64, OP_DB
from test_ops import _arrays, _to_ember, call, samples

torch = pytest.importorskip("torch")


def _leaves(s, mod_tensor):
    arrs = _arrays(s, lambda a: a.dtype.kind == "f")
    return arrs, {id(a): mod_tensor(a) for a in arrs}


def _first(y):
    while isinstance(y, (tuple, list)) and y:
        y = y[0]
    return y


def _rest(y):
    """The outputs after the first of a multi-output result (``max(dim)``'s indices)."""
    return list(y[1:]) if isinstance(y, (tuple, list)) else []


def _ember_saved(y, leaves):
    fn = y.grad_fn
    node = fn[0] if isinstance(fn, tuple) else fn
    if node is None:
        return None, None
    got = set()
    ptrs = {lf.data_ptr(): f"in{i}" for i, lf in enumerate(leaves)}
    for t in (node.saved or ()):
        if isinstance(t, ember.Tensor):  # a leaf or a view at its start, as on PyTorch's side
            got.add(ptrs.get(t.data_ptr(), "other") if t.numel() else "other")
        elif isinstance(t, (int, float, complex)):
            got.add("scalar")  # a Python number operand kept as a value
    if node.out is not None:
        k = node.op.save_out
        got.add("out" if not k else f"out{k}")
    return type(fn).__name__ if not isinstance(fn, tuple) else type(node).__name__, got


def _torch_saved(y, leaves, rest=()):
    fn = y.grad_fn
    if fn is None:
        return None, None
    ptrs = {lf.data_ptr(): f"in{i}" for i, lf in enumerate(leaves)}
    ptrs.update({o.data_ptr(): f"out{k}" for k, o in enumerate(rest, 1)
                 if isinstance(o, torch.Tensor) and o.numel()})
    got = set()
    for name in dir(fn):
        if not name.startswith("_saved_"):
            continue
        try:
            v = getattr(fn, name)
        except RuntimeError:  # freed or undefined
            continue
        if name in ("_saved_self", "_saved_other") and isinstance(v, (int, float, complex)) \
                and not isinstance(v, bool):
            got.add("scalar")  # a Scalar operand kept by value (PowBackward2's base), as ember
            continue
        for t in (v if isinstance(v, (tuple, list)) else (v,)):
            if isinstance(t, torch.Tensor) and t.numel():
                if t.data_ptr() == y.data_ptr() and name.endswith("result"):
                    got.add("out")
                elif t.data_ptr() in ptrs:
                    got.add(ptrs[t.data_ptr()])
                else:  # a wrapped Python number is a 0-dim tensor that needs no grad
                    got.add("scalar" if t.dim() == 0 and not t.requires_grad else "other")
    return type(fn).__name__, got


def compare():
    """entry name -> (ember node, ember set, torch node, torch set)."""
    rows = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for info in OP_DB:
            if not info.differentiable or F64 not in info.dtypes or info.name in rows:
                continue
            try:
                s = samples(info, F64)[0]
            except Exception:  # noqa: BLE001 - entries without float64 samples
                continue
            arrs, el = _leaves(s, lambda a: _to_ember(a).requires_grad_(True))
            _, tl = _leaves(s, lambda a: torch.from_numpy(a.copy()).requires_grad_(True))
            try:
                ye = _first(call(info, ember, s, _to_ember, el))
                rt = call(info, torch, s, lambda a: torch.from_numpy(a.copy()), tl)
                yt = _first(rt)
            except Exception:  # noqa: BLE001 - not callable the same way in both
                continue
            if not isinstance(ye, ember.Tensor) or not isinstance(yt, torch.Tensor):
                continue
            ne, se = _ember_saved(ye, [el[id(a)] for a in arrs])
            nt, st = _torch_saved(yt, [tl[id(a)] for a in arrs], _rest(rt))
            if ne is None or nt is None:
                continue
            rows[info.name] = (ne, se, nt, st)
    return rows


# entry -> what differs (ember's set vs PyTorch's), kept until the record is changed. Empty
# since div keeps self and other, erfinv its input, max.dim its indices output, index_put its
# index tensors, outer PyTorch's operands and sgn its input and output.
KNOWN: dict[str, str] = {}


@pytest.fixture(scope="module")
def rows():
    return compare()


def _mismatches(rows):
    return {n: (se, st) for n, (ne, se, nt, st) in rows.items() if ne == nt and se != st}


def test_enough_entries_are_comparable(rows):
    same = [n for n, (ne, se, nt, st) in rows.items() if ne == nt or se == st]
    print(f"\nsaved tensors: {len(rows)} entries, {len(same)} with the same node, "
          f"{len(_mismatches(rows))} differ")
    assert len(same) >= 100


def test_saved_sets_match_pytorch(rows):
    bad = {n: v for n, v in _mismatches(rows).items() if n not in KNOWN}
    assert not bad, "\n".join(f"{n}: ember {sorted(se)} / PyTorch {sorted(st)}"
                              for n, (se, st) in sorted(bad.items()))


def test_known_mismatches_still_differ(rows):
    assert sorted(n for n in KNOWN if n in _mismatches(rows)) == sorted(KNOWN)


if __name__ == "__main__":
    r = compare()
    for n, (ne, se, nt, st) in sorted(r.items()):
        flag = "" if se == st else ("  DIFFERS" if ne == nt else "  (other node)")
        print(f"{n:28s} {ne:24s} {sorted(se)!s:22s} {nt:24s} {sorted(st)}{flag}")
