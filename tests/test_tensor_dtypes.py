"""Type promotion against PyTorch: every pair of dtypes, tensor-tensor and tensor-scalar.

PyTorch's rules (not NumPy's): operands are ranked dimensioned tensor > 0-dim tensor >
Python number, and a lower-ranked operand only changes the result dtype when it brings a
higher category (bool < integer < floating < complex). The expected dtypes come from
PyTorch itself, run on the same inputs.
"""

import itertools
import warnings

import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64", "complex64", "complex128"]
OPS = ["add", "sub", "mul", "div", "eq", "lt"]
SCALARS = {"int": 2, "float": 2.5, "bool": True, "complex": 1 + 2j}
# (a is 0-dim, b is 0-dim)
DIMS = [(False, False), (True, False), (False, True), (True, True)]


def _expected(op, a, b):
    """torch's result dtype as ember spells it, or None where torch refuses the op."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns that complex32 is experimental
            r = getattr(torch, op)(a, b).dtype
    except (RuntimeError, NotImplementedError):
        return None  # e.g. bool - bool, ordering of complex numbers: see the xfails below
    # ember has no complex32 (torch.chalf); it computes such results in complex64.
    return "torch.complex64" if r is torch.complex32 else str(r)


def _pair(name, zero_dim):
    shape = () if zero_dim else (2,)
    return (torch.ones(shape, dtype=getattr(torch, name)),
            ember.ones(shape, dtype=getattr(ember, name)))


@pytest.mark.parametrize("a,b", list(itertools.product(NAMES, NAMES)))
def test_tensor_tensor_promotion_matches_torch(a, b):
    wrong = []
    for a0, b0 in DIMS:
        ta, ea = _pair(a, a0)
        tb, eb = _pair(b, b0)
        for op in OPS:
            want = _expected(op, ta, tb)
            if want is None:
                continue
            got = repr(getattr(ember, op)(ea, eb).dtype)
            if got != want:
                wrong.append(f"{op}({a}{'[0-dim]' * a0}, {b}{'[0-dim]' * b0}): {got} != {want}")
        want = str(torch.result_type(ta, tb)).replace("complex32", "complex64")
        if repr(ember.result_type(ea, eb)) != want:
            wrong.append(f"result_type({a}, {b}, 0-dim={a0, b0})")
    assert not wrong, "\n".join(wrong)


def _scalar_params():
    for name, kind in itertools.product(NAMES, SCALARS):
        yield pytest.param(name, kind)


@pytest.mark.parametrize("name,kind", list(_scalar_params()))
def test_tensor_scalar_promotion_matches_torch(name, kind):
    s = SCALARS[kind]
    wrong = []
    for zero in (False, True):
        t, e = _pair(name, zero)
        for op in OPS:
            for reflected in (False, True):
                args_t, args_e = ((s, t), (s, e)) if reflected else ((t, s), (e, s))
                if reflected and op in ("eq", "lt"):
                    continue  # torch.eq(number, tensor) is not a valid overload
                want = _expected(op, *args_t)
                if want is None:
                    continue
                got = repr(getattr(ember, op)(*args_e).dtype)
                if got != want:
                    wrong.append(f"{op}{'(s, t)' if reflected else '(t, s)'} 0-dim={zero}: "
                                 f"{got} != {want}")
        want = str(torch.result_type(t, s)).replace("complex32", "complex64")
        if repr(ember.result_type(e, s)) != want:
            wrong.append(f"result_type 0-dim={zero}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("s1,s2", list(itertools.product(SCALARS.values(), repeat=2)))
def test_result_type_of_two_numbers(s1, s2):
    assert repr(ember.result_type(s1, s2)) == str(torch.result_type(s1, s2))


def test_promote_types_and_can_cast_match_torch():
    wrong = []
    for a, b in itertools.product(NAMES, NAMES):
        ta, tb = getattr(torch, a), getattr(torch, b)
        ea, eb = getattr(ember, a), getattr(ember, b)
        want = str(torch.promote_types(ta, tb)).replace("complex32", "complex64")
        if repr(ember.promote_types(ea, eb)) != want:
            wrong.append(f"promote_types({a}, {b})")
        if ember.can_cast(ea, eb) != torch.can_cast(ta, tb):
            wrong.append(f"can_cast({a}, {b})")
    assert not wrong, wrong


def test_dtype_arguments_are_checked():
    with pytest.raises(TypeError):
        ember.promote_types(ember.float32, 1)
    with pytest.raises(TypeError):
        ember.can_cast(1.0, ember.int32)


# Hand-written cases from the PyTorch docs, so a failure reads plainly.
@pytest.mark.parametrize("expr,expected", [
    (lambda: ember.tensor([1, 2]) + 2.5, ember.float32),
    (lambda: ember.ones(2) + ember.tensor(1, dtype=ember.float64), ember.float32),
    (lambda: ember.ones(2, dtype=ember.int32) + ember.ones(2, dtype=ember.float16),
     ember.float16),
    (lambda: ember.ones(2, dtype=ember.uint8) + ember.ones(2, dtype=ember.int8), ember.int16),
    (lambda: ember.ones(2, dtype=ember.bool) + ember.ones(2, dtype=ember.bool), ember.bool),
    (lambda: ember.tensor([1, 2]) / ember.tensor([2, 2]), ember.float32),
    (lambda: ember.tensor([1, 2], dtype=ember.int32) * 5, ember.int32),
    (lambda: ember.tensor(1.5, dtype=ember.float64) * ember.ones(2, dtype=ember.int64),
     ember.float64),  # a 0-dim float wins over dimensioned ints: higher category
    (lambda: ember.tensor([True]) + 1, ember.int64),
    (lambda: ember.ones(2, dtype=ember.float16) + 1j, ember.complex64),
    (lambda: ember.ones(2, dtype=ember.float64) + 1j, ember.complex128),
    (lambda: ember.ones(2, dtype=ember.bfloat16) + ember.ones(2, dtype=ember.float16),
     ember.float32),
])
def test_documented_promotions(expr, expected):
    assert expr().dtype is expected


@pytest.fixture
def float64_default():
    """Run a test with float64 as the default dtype in ember and torch; always restore."""
    prev_e, prev_t = ember.get_default_dtype(), torch.get_default_dtype()
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        ember.set_default_dtype(prev_e)
        torch.set_default_dtype(prev_t)


def test_promotion_follows_default_dtype(float64_default):
    assert (ember.tensor([1, 2]) + 2.5).dtype is ember.float64
    assert (ember.tensor([1, 2]) / 2).dtype is ember.float64
    assert (ember.ones(2, dtype=ember.float32) * 2.5).dtype is ember.float32
    assert (ember.tensor([1]) + 1j).dtype is ember.complex128
    assert repr(ember.result_type(1.5, 1)) == str(torch.result_type(1.5, 1))


def test_bool_subtraction_raises():
    with pytest.raises(RuntimeError, match="Subtraction"):
        ember.ones(2, dtype=ember.bool) - ember.ones(2, dtype=ember.bool)


def test_ordering_complex_raises():
    with pytest.raises(RuntimeError):  # torch: NotImplementedError (a RuntimeError)
        ember.ones(2, dtype=ember.complex64) < ember.ones(2, dtype=ember.complex64)
