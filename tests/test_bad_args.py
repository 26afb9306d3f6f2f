"""Bad input is refused as PyTorch refuses it (issue 17, item 4): the bad-argument sweep.

``tests/bad_args.py`` derives about 6,000 wrong calls of about 220 public functions from one
valid call each (wrong argument types, ints beyond int64, wrong dtypes and mixed dtypes, wrong
shapes and ranks, out-of-range dims, NaN inputs, ...). Each call runs in ember and in PyTorch
(the oracle) and lands in one of four classes:

* both accept (not counted: the op sweep and the op table check the values);
* PyTorch rejects, ember accepts ("silently accepted", goal 0);
* both reject, with a different exception type ("differing types", goal <= 5% of the calls
  both reject, asserted at the measured 3.2%; the type compared is the first built-in class
  of the exception's MRO, so ``torch.linalg.LinAlgError`` counts as RuntimeError);
* ember rejects, PyTorch accepts ("wrongly refused", goal 0: ember must not refuse valid
  input).

``KNOWN`` lists the departures kept on purpose, each with its reason; the figures are printed
(``pytest -s``) and asserted at the goal levels. ``python tests/test_bad_args.py`` prints every
call of each class.
"""

from __future__ import annotations

import collections
import sys
import warnings

import numpy as np
import pytest

import ember
from bad_args import SPECS, calls, materialize

try:
    import torch
except ImportError:  # the sweep needs the oracle; the named cases below do not
    torch = None

# call id -> reason; ids are "<spec>:<argument>:<mutation>". Each is a departure kept for now,
# not a goal: the lead decides whether to close it.
_ZERO_DIM = ("the op treats a 0-dim input as having one dim for every dim argument; PyTorch "
             "allows only -1 and 0 there")
KNOWN: dict[str, str] = {
    # silently accepted
    "mul_#inplace:1:ndarray": "Tensor.mul_ shares its body with `*=`, which takes arrays as "
                              "PyTorch's operator does",
    "repeat_interleave:0:0-dim": _ZERO_DIM,
    "norm:p:str": "norm's p takes 'fro'/'nuc' strings; other strings reach the vector norm",
    "nn.functional.normalize:p:str": "as norm:p:str",
    "norm:p:huge-int": "p is parsed as a float (a Scalar in PyTorch's schema)",
    "nn.functional.normalize:p:huge-int": "as norm:p:huge-int",
    "flip:1:int-for-list": "ember.flip and Tensor.flip are one function taking *dims; PyTorch's "
                           "method takes ints, its function a list",
    "scatter_add:3:0-dim": "a 0-dim src is broadcast to the index shape",
    "scatter:3:0-dim": "a 0-dim src is broadcast to the index shape",
    "arange:1:None": "arange(start, None) reads as arange(start)",
    "eye:1:None": "eye(n, None) reads as eye(n)",
    "randint:1:overflow": "randint's bounds are not range-checked against int64",
    "nn.functional.binary_cross_entropy_with_logits:pos_weight:rank+1": (
        "pos_weight broadcasts to a larger shape than the loss instead of being refused"),
    "nn.functional.batch_norm:1:None": (
        "one running statistic without the other is allowed (tests/nn/test_records.py uses it "
        "as a scratch buffer); PyTorch refuses it"),
    "nn.functional.batch_norm:2:None": "as nn.functional.batch_norm:1:None",
    **{f"{n}:dim:bool": f"{n}(x, True) is the legacy positional unbiased flag, which the "
       "check cannot tell from dim=True" for n in ("std", "var", "std_mean", "var_mean")},
    # wrongly refused
    "roll:0:empty": "roll of an empty 1-dim tensor along dim 1 is refused (PyTorch returns it)",
    "linspace:0:complex": "complex ranges are not implemented (NotImplementedError names it)",
    "linspace:1:complex": "complex ranges are not implemented (NotImplementedError names it)",
    "logspace:0:complex": "complex ranges are not implemented (NotImplementedError names it)",
    "logspace:1:complex": "complex ranges are not implemented (NotImplementedError names it)",
    "nn.functional.hardtanh:0:dtype=int64": "hardtanh of integer tensors is not implemented",
    "nn.functional.batch_norm:0:empty": "batch_norm of a 1-dim empty input is refused",
}


def _kind(e):
    for cls in type(e).__mro__:
        if cls.__module__ == "builtins":
            return cls.__name__
    return type(e).__name__


def _outcome(mod, spec, args, kwargs, seed):
    rng = np.random.default_rng(seed)
    try:
        fn = spec.target(mod)
        a = materialize(args, mod, rng)
        k = materialize(kwargs, mod, rng)
        fn(*a, **k)
    except Exception as e:  # noqa: BLE001 - the class is what is compared
        return e
    return None


def sweep():
    """Run every call in both libraries; return {class: [(id, ember outcome, torch outcome)]}."""
    out = collections.defaultdict(list)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n, (cid, spec, args, kwargs) in enumerate(calls(SPECS)):
            te = _outcome(torch, spec, args, kwargs, n)
            ee = _outcome(ember, spec, args, kwargs, n)
            if te is None and ee is None:
                cls = "both_accept"
            elif te is None:
                cls = "wrongly_refused"
            elif ee is None:
                cls = "silently_accepted"
            elif _kind(te) != _kind(ee):
                cls = "differing_types"
            else:
                cls = "same_type"
            if cid in KNOWN and cls in ("wrongly_refused", "silently_accepted",
                                        "differing_types"):
                cls = "known"
            out[cls].append((cid, ee, te))
    return out


@pytest.fixture(scope="module")
def result():
    pytest.importorskip("torch")
    return sweep()


def _figures(res):
    total = sum(len(v) for v in res.values())
    rejected_by_torch = sum(len(res[c]) for c in ("silently_accepted", "differing_types",
                                                  "same_type"))
    both = len(res["differing_types"]) + len(res["same_type"])
    return {
        "calls": total, "functions": len(SPECS), "rejected_by_pytorch": rejected_by_torch,
        "silently_accepted": len(res["silently_accepted"]),
        "differing_types": len(res["differing_types"]), "both_reject": both,
        "differing_pct": 100.0 * len(res["differing_types"]) / max(both, 1),
        "wrongly_refused": len(res["wrongly_refused"]), "known": len(res["known"]),
    }


def _show(rows, limit=40):
    return "\n".join(f"  {cid}: ember {type(e).__name__ if e else 'accepts'}"
                     f" ({str(e)[:60] if e else ''}) / torch "
                     f"{type(t).__name__ if t else 'accepts'} ({str(t)[:60] if t else ''})"
                     for cid, e, t in rows[:limit])


def test_sweep_is_large(result):
    f = _figures(result)
    print("\nbad-argument sweep:", f)
    assert f["functions"] >= 100 and f["calls"] >= 4000
    assert f["rejected_by_pytorch"] >= 2000  # the sweep mostly makes calls PyTorch refuses


def test_nothing_pytorch_rejects_is_silently_accepted(result):
    rows = result["silently_accepted"]
    assert not rows, f"{len(rows)} silently accepted:\n{_show(rows)}"


def test_nothing_pytorch_accepts_is_refused(result):
    rows = result["wrongly_refused"]
    assert not rows, f"{len(rows)} wrongly refused:\n{_show(rows)}"


def test_exception_types_agree(result):
    # the goal is <= 5%; the ceiling is the measured 3.18% (142 of 4459), so a change
    # that makes ember's exception types depart further from PyTorch's fails here. Of the 142,
    # 67 are ember's TypeError "argument 'input' must be Tensor" where PyTorch's Python code
    # fails with an AttributeError on the non-tensor (kept: the clearer refusal)
    f = _figures(result)
    assert f["differing_pct"] <= 3.2, (
        f"{f['differing_types']} of {f['both_reject']} differ:\n{_show(result['differing_types'])}")


def test_known_departures_still_depart(result):
    # a KNOWN entry that now agrees with PyTorch must leave the list
    assert sorted(cid for cid, _, _ in result["known"]) == sorted(KNOWN)
    assert len(KNOWN) <= 32  # departures are the exception


F = ember.nn.functional


def _backward_with_array():
    x = ember.ones(2, requires_grad=True)
    (x * 2).backward(gradient=np.ones(2, dtype=np.float32))


# the cases issue 17 names, with PyTorch's exception types (no oracle needed)
NAMED = [
    (lambda: F.conv2d(ember.randn(1, 1, 4, 4), ember.randn(1, 1, 2, 2), stride="2"),
     TypeError, "stride"),
    (lambda: F.binary_cross_entropy(ember.tensor([float("nan"), 0.5]), ember.tensor([0., 1.])),
     RuntimeError, "between 0 and 1"),
    (lambda: F.binary_cross_entropy(ember.tensor([0.3, 0.5]),
                                    ember.tensor([0., 1.], dtype=ember.float64)),
     RuntimeError, "Found dtype Double but expected Float"),
    (lambda: ember.clamp(ember.randn(2), min=[1, 2]), TypeError, "min"),
    (lambda: ember.add(ember.randn(2), ember.randn(2), alpha=1j), RuntimeError,
     "non-complex input tensors"),
    (lambda: ember.zeros(3).scatter_add(0, ember.tensor([0, 1]),
                                       ember.ones(2, dtype=ember.float64)),
     RuntimeError, "Expected self.dtype to be equal to src.dtype"),
    (lambda: ember.topk(ember.randn(4), k=True), TypeError, "'k' must be int, not bool"),
    (lambda: ember.einsum("i,i->", ember.randn(3), ember.randn(3, dtype=ember.float64)),
     RuntimeError, "expected scalar type Float but found Double"),
    (_backward_with_array, TypeError, "gradients can be either Tensors or None"),
    (lambda: ember.sum(ember.ones(2, 3), 1, keepdim="yes"), TypeError, "'keepdim' must be bool"),
    (lambda: ember.sum(ember.ones(2, 3), 2 ** 63), ValueError, "overflows int64"),
    (lambda: ember.maximum(ember.ones(2, dtype=ember.complex64), ember.ones(2)), RuntimeError,
     "not implemented for complex"),
    (lambda: ember.mul(ember.ones(2), np.ones(2)), TypeError, "must be Tensor"),
    (lambda: ember.sum("x"), TypeError, "argument 'input' must be Tensor, not str"),
]


@pytest.mark.parametrize("call,exc,match", NAMED, ids=[str(i) for i in range(len(NAMED))])
def test_named_cases_are_refused_as_pytorch_refuses_them(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_valid_forms_stay_accepted():
    # what the checks must not refuse: NumPy ints and 0-dim int tensors for ints, Python
    # types for dtypes, lists of dims, None where the default is None, 0-dim tensor Scalars
    x = ember.arange(6.0).reshape(2, 3)
    assert ember.sum(x, dim=np.int64(1)).shape == (2,)
    assert ember.topk(x, ember.tensor(2), dim=1).values.shape == (2, 2)
    assert ember.sum(x, dim=[0, 1]).item() == 15.0
    assert ember.zeros(2, dtype=float).dtype == ember.float64
    assert ember.add(x, x, alpha=ember.tensor(2.0)).sum().item() == 45.0
    assert ember.clamp(x, min=ember.tensor(1.0)).min().item() == 1.0
    assert ember.nan_to_num(ember.tensor([float("nan")]), nan=None).item() == 0.0
    assert F.conv2d(ember.ones(1, 1, 3, 3), ember.ones(1, 1, 2, 2), stride=[1, 1],
                    padding="same").shape == (1, 1, 3, 3)


def test_fronts_keep_identity_signature_and_pickling():
    import inspect
    import pickle

    for f in (ember.sum, ember.topk, ember.Tensor.sum, F.relu, F.conv2d, ember.divide):
        assert pickle.loads(pickle.dumps(f)) is f
        assert inspect.signature(f) == inspect.signature(f.__wrapped__)
    assert ember.divide is ember.div and ember.conv2d is F.conv2d  # aliases share one front


if __name__ == "__main__":
    res = sweep()
    print(_figures(res))
    for c in sys.argv[1:] or ("silently_accepted", "wrongly_refused", "differing_types"):
        print(f"--- {c} ({len(res[c])})")
        print(_show(res[c], limit=10 ** 6))
