"""Parameter names of ember's public functions and Tensor methods against PyTorch's.

PyTorch's Python bindings take their keyword names from the ATen schemas (``self`` becomes
``input`` for functions and disappears for methods), so ``torch.pow(x, exponent=2)``,
``x.flip(dims=[0])`` and ``torch.dot(a, tensor=b)`` are ordinary calls. For every name both
libraries publish, this test collects the keyword names PyTorch accepts (from the schemas of
its non-``out`` overloads, or from ``inspect.signature`` for functions written in Python) and
checks that ember's callable accepts each of them by keyword. What ember still spells
otherwise is listed in ``KNOWN`` with the reason; the list may only shrink (a name that
starts matching must be removed from it, so the list stays true).
"""

import inspect

import pytest

import ember

torch = pytest.importorskip("torch")

# Names PyTorch's argument parser adds to every factory (not in the schemas) and the ones
# that are TorchScript-only overload spellings.
_FACTORY_EXTRA = {"requires_grad"}
_SKIP_OVERLOADS = {"int", "float", "complex", "bool", "str", "Scalar_Scalar", "int_to_int",
                   "int_float", "float_int", "float_complex", "complex_float", "any", "t"}

# NOTE [ Parameter names not yet PyTorch's ]
# qualified name -> (PyTorch keyword names ember does not accept, reason). Positional use of
# every one of these works; only the keyword spelling differs.
_FACTORY_PIN = "pin_memory= is not accepted by this factory (no page-locked CPU memory here)"
_FROM = "'from' is a Python keyword: reachable only through **{'from': v}"
KNOWN = {
    "addmm": ({"out_dtype"}, "out_dtype= (a CUDA-only low-precision output) is not accepted"),
    "baddbmm": ({"out_dtype"}, "out_dtype= (a CUDA-only low-precision output) is not accepted"),
    "bmm": ({"out_dtype"}, "out_dtype= (a CUDA-only low-precision output) is not accepted"),
    "mm": ({"out_dtype"}, "out_dtype= (a CUDA-only low-precision output) is not accepted"),
    "Tensor.addmm": ({"out_dtype"}, "out_dtype= (CUDA-only) is not accepted"),
    "Tensor.baddbmm": ({"out_dtype"}, "out_dtype= (CUDA-only) is not accepted"),
    "Tensor.bmm": ({"out_dtype"}, "out_dtype= (CUDA-only) is not accepted"),
    "Tensor.mm": ({"out_dtype"}, "out_dtype= (CUDA-only) is not accepted"),
    "normal": ({"pin_memory"}, _FACTORY_PIN),
    "scalar_tensor": ({"pin_memory"}, _FACTORY_PIN),
    "bartlett_window": ({"pin_memory"}, _FACTORY_PIN),
    "blackman_window": ({"pin_memory"}, _FACTORY_PIN),
    "hamming_window": ({"pin_memory"}, _FACTORY_PIN),
    "hann_window": ({"pin_memory"}, _FACTORY_PIN),
    "kaiser_window": ({"pin_memory"}, _FACTORY_PIN),
    "Tensor.random_": ({"from"}, _FROM),
    "Tensor.uniform_": ({"from", "to"}, _FROM + "; ember names the bounds a, b"),
    "compile": ({"isolate_recompiles", "name", "recompile_limit", "shapes_spec"},
                "torch.compile's newer dynamo options have no meaning for ember.jit"),
    "gru": ({"batch_sizes", "data"}, "the packed-sequence overload of torch.gru is missing"),
    "lstm": ({"batch_sizes", "data"}, "the packed-sequence overload of torch.lstm is missing"),
    "rnn_relu": ({"batch_sizes", "data"}, "the packed-sequence overload is missing"),
    "rnn_tanh": ({"batch_sizes", "data"}, "the packed-sequence overload is missing"),
    "tril_indices": ({"pin_memory", "requires_grad"}, _FACTORY_PIN + "; requires_grad= neither"),
    "triu_indices": ({"pin_memory", "requires_grad"}, _FACTORY_PIN + "; requires_grad= neither"),
    "Tensor.copy_": ({"other"}, "copy_'s documented keyword is src (ember's); PyTorch's parser "
                     "also takes a TorchScript overload's other"),
    "Tensor.expand": ({"implicit"}, "implicit= is a tracing flag of PyTorch's expand; no meaning "
                      "here"),
    "Tensor.record_stream": ({"s"}, "CUDA stream bookkeeping; ember's spells the stream stream"),
    "Tensor.resize_": ({"size"}, "resize_ is an in-place method without a checked front, so its "
                       "*sizes has no size= spelling"),
    "Tensor.split": ({"split_size"}, "Tensor.split is torch.split's function "
                     "(split_size_or_sections); PyTorch's method spells it split_size"),
    "Tensor.view": ({"dtype"}, "view(dtype) is taken positionally only (the size= keyword is)"),
    "isin": ({"element", "test_element"}, "the keywords of the Scalar overloads: ember takes "
             "elements/test_elements for every overload"),
    "result_type": ({"scalar"}, "the Scalar-first overload's keyword: ember's first parameter "
                    "is tensor for every overload"),
    **{f: ({"input"}, "the top-level in-place functions are the in-place methods (self)")
       for f in ("abs_", "exp_", "neg_", "relu_", "sigmoid_", "sqrt_", "tanh_")},
}


_TORCH_TYPES = ("Tensor", "ScalarType", "Layout", "Device", "Generator", "Scalar", "bool")


def _schema_names(name, method):
    """Keyword names per non-out overload of aten::name (None when ATen has no such op)."""
    try:
        schemas = torch._C._jit_get_schemas_for_operator("aten::" + name)
    except RuntimeError:
        return None
    sets = []
    # an op with Tensor results (most): its other overloads are TorchScript's, for lists and
    # numbers; ops on dtypes (promote_types, can_cast) have no Tensor overload at all
    tensor_op = any("Tensor" in str(r.type) for s in schemas for r in s.returns)
    for s in schemas:
        args = list(s.arguments)
        if s.overload_name in _SKIP_OVERLOADS or s.overload_name.endswith("out"):
            continue
        if not any(t in str(a.type) for a in args for t in _TORCH_TYPES):
            continue  # TorchScript's list/number overloads
        if tensor_op and not any("Tensor" in str(r.type) for r in s.returns):
            continue  # TorchScript's comparisons of lists and in-place list sorts
        if any("Dimname" in str(a.type) for a in args):
            continue  # named tensors: not in ember
        if any(a.alias_info is not None and a.alias_info.is_write for a in args[1:]) or (
                args and args[0].alias_info is not None and args[0].alias_info.is_write
                and "[]" in str(args[0].type)):
            continue  # out= overloads and TorchScript's in-place list ops
        names = set()
        for a in args:
            if a.name == "self":
                if not method:
                    names.add("input")
                continue
            names.add(a.name)
        if "pin_memory" in names:  # a factory with all of TensorOptions
            names |= _FACTORY_EXTRA
        sets.append(names)
    return sets or None


def _torch_names(name, method):
    tf = getattr(torch.Tensor if method else torch, name)
    try:
        sig = inspect.signature(tf)
    except (TypeError, ValueError):
        return _schema_names(name, method)
    names = {p.name for p in sig.parameters.values()
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)} - {"self"}
    if method:  # a method written in Python names its first parameter
        first = next(iter(sig.parameters), None)
        names.discard(first)
    return [names]


def _accepted(fn, method):
    """The keyword names ``fn`` takes, or None when it forwards **kwargs we cannot see."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    ps = list(sig.parameters.values())
    if method and ps and ps[0].kind is not ps[0].VAR_POSITIONAL:
        ps = ps[1:]
    if any(p.kind is p.VAR_KEYWORD for p in ps):
        return None
    names = {p.name for p in ps if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    # NOTE [ Varargs by keyword ] (args.py): a checked front also takes its *name as name=
    names |= set(getattr(fn, "__ember_varargs_kw__", ()))
    return names


def _differences():
    out = {}
    for method in (False, True):
        src, tsrc = (ember.Tensor, torch.Tensor) if method else (ember, torch)
        for n in sorted(dir(src)):
            if n.startswith("_") or not hasattr(tsrc, n):
                continue
            f = getattr(src, n)
            if isinstance(f, type) or not callable(f):
                continue
            try:
                tsets = _torch_names(n, method)
            except AttributeError:
                continue
            mine = _accepted(f, method)
            if not tsets or mine is None:
                continue
            missing = set().union(*tsets) - mine - {"out"}
            if missing:
                out[("Tensor." if method else "") + n] = missing
    return out


DIFFS = _differences()


def test_keyword_names_match_pytorch():
    unexplained = {k: sorted(v) for k, v in DIFFS.items()
                   if k not in KNOWN or not v <= KNOWN[k][0]}
    assert not unexplained, f"keyword names PyTorch accepts and ember does not: {unexplained}"


def test_known_list_is_current():
    stale = {k: sorted(KNOWN[k][0] - DIFFS.get(k, set())) for k in KNOWN
             if KNOWN[k][0] - DIFFS.get(k, set())}
    assert not stale, f"these now match PyTorch: shrink KNOWN: {stale}"
    assert all(len(reason) > 20 for _, reason in KNOWN.values())


def test_the_comparison_sees_the_op_table():
    # a broken filter would pass vacuously: make sure the common cases are compared
    assert _torch_names("pow", False) and "exponent" in set().union(*_torch_names("pow", False))
    assert _accepted(ember.add, False) >= {"input", "other", "alpha"}


@pytest.mark.parametrize("call", [
    lambda m, x: m.pow(x, exponent=2),
    lambda m, x: x.pow(exponent=2),
    lambda m, x: m.float_power(x, exponent=2),
    lambda m, x: x.clone().pow_(exponent=2),
    lambda m, x: m.flip(x, dims=[0]),
    lambda m, x: x.permute(dims=(1, 0)),
    lambda m, x: x.reshape(shape=(3, 2)),
    lambda m, x: x.view(size=(3, 2)),
    lambda m, x: x.expand(size=(2, 2, 3)),
    lambda m, x: x.repeat(repeats=(2, 1)),
    lambda m, x: m.tile(x, dims=(2,)),
    lambda m, x: m.zeros(size=(2, 3)),
    lambda m, x: m.dot(x[0], tensor=x[1]),
    lambda m, x: m.heaviside(x, values=x),
    lambda m, x: x.where(x > 2, other=x * 0),
    lambda m, x: m.hsplit(x, sections=3),
    lambda m, x: m.hsplit(x, indices=[1]),
    lambda m, x: m.swapaxes(x, axis0=0, axis1=1),
    lambda m, x: x.swapaxes(axis0=1, axis1=0),
    lambda m, x: m.tensor_split(x, sections=2, dim=1),
    lambda m, x: x.tensor_split(indices=[1], dim=1),
    lambda m, x: m.tensor_split(x, tensor_indices_or_sections=m.tensor([1, 2]), dim=1),
])
def test_keyword_calls_agree_with_pytorch(call):
    a = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    want = call(torch, torch.tensor(a))
    got = call(ember, ember.tensor(a))
    if isinstance(want, tuple):
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            assert g.tolist() == w.tolist()
    else:
        assert got.tolist() == want.tolist()


def test_positional_spelling_unchanged():
    x = ember.tensor([1.0, 2.0])
    assert ember.pow(x, 2).tolist() == [1.0, 4.0]
    assert x.pow(x).tolist() == [1.0, 4.0]
    assert (x ** 2).tolist() == [1.0, 4.0]
    assert ember.flip(x, 0).tolist() == [2.0, 1.0]
    with pytest.raises(TypeError):
        x.flip(0, dims=[0])  # both spellings at once, as PyTorch refuses


def test_renamed_operand_costs_nothing():
    # NOTE [ Second operand's name ]: pow runs the very code mul runs, only a name differs
    assert ember.pow.__code__.co_code == ember.mul.__code__.co_code
    assert ember.pow.__code__.co_varnames[:2] == ("input", "exponent")
    assert ember.Tensor.pow_.__code__.co_code == ember.Tensor.mul_.__code__.co_code


def test_swapaxes_is_transpose_with_numpy_keywords():
    x = ember.rand(2, 3, 4, requires_grad=True)
    y = ember.swapaxes(x, axis0=0, axis1=2)
    assert y.shape == (4, 3, 2) and type(y.grad_fn).__name__ == "TransposeBackward0"
    assert y.tolist() == x.transpose(0, 2).tolist()
    y.sum().backward()
    assert x.grad.tolist() == ember.ones(2, 3, 4).tolist()
    assert x.swapaxes(-1, 0).shape == (4, 3, 2)


@pytest.mark.parametrize("make", [
    lambda **k: ember.arange(3, **k), lambda **k: ember.range(0, 2, **k),
    lambda **k: ember.linspace(0, 1, 3, **k), lambda **k: ember.logspace(0, 1, 3, **k),
    lambda **k: ember.eye(2, **k), lambda **k: ember.zeros_like(ember.ones(2), **k),
    lambda **k: ember.ones_like(ember.ones(2), **k),
    lambda **k: ember.empty_like(ember.ones(2), **k),
    lambda **k: ember.full_like(ember.ones(2), 3.0, **k),
    lambda **k: ember.randint(0, 3, (2,), **k),
])
def test_factories_honour_pin_memory(make):
    # pin_memory= was refused as an unknown keyword by these; now it pins, or refuses with
    # PyTorch's error where there is no accelerator to pin for
    assert not make(pin_memory=False).is_pinned()
    try:
        t = make(pin_memory=True)
    except RuntimeError as e:
        assert "pin_memory=True requires a CUDA or other accelerator backend" in str(e)
    else:
        assert t.is_pinned()
