"""Every public function, method, class and property of ember's API is documented.

A docstring counts as complete when it has:

- a one-line summary (an optional ``name(args) -> Type`` signature line may come first);
- an ``Args:`` section when the callable takes arguments (classes: their constructor's);
- a ``Returns:`` (or ``Yields:``) section for functions and methods; a ``Shape:`` section for
  ``ember.nn`` layers (containers and the base class excepted);
- an ``Example:`` section with ``>>>`` lines (properties need only the summary and an
  example).

The examples of every complete docstring run under doctest (NORMALIZE_WHITESPACE and
ELLIPSIS, the RNG seeded with 0 before each docstring), so printed outputs shown in them are
checked. They run in a temporary directory (files they save land there). In scope: the
defining module's names, ``ember``, ``nn``, ``F``, and the two
objects optimizer and scheduler examples take as given: ``model = nn.Linear(4, 2)`` and
``opt = ember.optim.SGD(model.parameters(), lr=0.1)``.

NOTE [ The docstring ratchet ]
``tests/docstrings_todo.txt`` lists the public names that are not documented yet. The list
may only shrink: the test fails when an unlisted name lacks a complete docstring (document
it, as every new public name must be), and when a listed name has gained one or no longer
exists (delete its line). ``python tests/test_docstrings.py`` prints the documented/total
count per namespace; ``--todo`` prints the names that fail the check now, ``--shrink`` deletes the
lines of names documented since.

An object reachable under several names (``ember.abs`` is ``Tensor.abs``) is checked once,
under the first name of the walk order below. A Tensor method or in-place variant whose
docstring only refers to a function (``See :func:`ember.sum```, ``In-place version of
:meth:`abs```) counts as documented when that function is: PyTorch documents its methods
the same way.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import os
import re
import sys
import tempfile
import warnings
from pathlib import Path

import pytest

import ember

TODO_FILE = Path(__file__).with_name("docstrings_todo.txt")

# The namespaces walked, in order; the first name found for an object is its key.
NAMESPACES = [
    "ember", "ember.Tensor", "ember.autograd", "ember.autograd.functional", "ember.nn",
    "ember.nn.functional", "ember.nn.init", "ember.nn.utils", "ember.nn.utils.rnn",
    "ember.nn.parallel", "ember.optim", "ember.optim.lr_scheduler", "ember.linalg",
    "ember.fft", "ember.special", "ember.distributions", "ember.utils.data", "ember.func",
    "ember.amp", "ember.jit", "ember.onnx", "ember.profiler", "ember.distributed",
    "ember.serialization", "ember.utils.checkpoint", "ember.random", "ember.testing",
    "ember.signal.windows", "ember.accelerator", "ember.hub", "ember.backends",
    "ember.backends.cuda", "ember.backends.cudnn", "ember.backends.mps", "ember.backends.mkldnn",
    "ember.backends.mkl", "ember.backends.openmp", "ember.cpu", "ember.cpu.allocator",
    "ember.cpu.amp", "ember.cuda", "ember.cuda.amp", "ember.multiprocessing",
    "ember.utils.tensorboard", "ember.compiler", "ember.return_types",
    "ember.utils.safetensors", "ember.utils.memory", "ember.distributions.constraints",
    "ember.optim.swa_utils", "ember.nn.utils.parametrize", "ember.overrides",
    "ember.distributions.utils", "ember.as_torch", "ember.autograd.profiler_util",
    "ember.vision.transforms", "ember.vision.transforms.functional", "ember.vision.utils",
    "ember.vision.datasets", "ember.vision.datasets.folder", "ember.vision.datasets.utils",
    "ember.distributed.run", "ember.optim.optimizer", "ember.distributions.relaxed",
    "ember.nn.parameter", "ember.amp.grad_scaler", "ember.autograd.gradcheck",
    "ember.multiprocessing.reductions", "ember.nn.utils.spectral_norm",
    "ember.nn.utils.weight_norm", "ember.vision.models", "ember.vision.models.mobilenetv2",
    "ember.vision.models.vgg",
]
# Classes whose own public methods are walked too (the rest: the class docstring only).
MEMBER_CLASSES = [
    "ember.nn.Module", "ember.optim.Optimizer", "ember.optim.lr_scheduler.LRScheduler",
    "ember.distributions.Distribution", "ember.utils.data.DataLoader",
    "ember.utils.data.Dataset", "ember.autograd.Function", "ember.Generator",
]
# nn classes that are containers or bases, with no input/output shape to state.
NO_SHAPE = {"Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
            "ParameterDict", "Parameter", "Buffer", "UninitializedParameter",
            "UninitializedBuffer", "RNNBase", "RNNCellBase", "Container", "DataParallel",
            "LazyModuleMixin"}

SECTION = re.compile(r"^\s*(Args|Arguments|Returns|Yields|Shape|Example|Examples)\s*::?(?:\s|$)",
                     re.M)
SIGNATURE_LINE = re.compile(r"^[\w.]+\(.*\)(\s*->\s*.*)?$")
REFERENCE = re.compile(r"^(?:``torch\.[\w.]+``: (?:see|alias of)|See|In-place version of|"
                       r"(?:Deprecated )?[Aa]lias (?:of|for)|Method form of)\s+"
                       r"(?::(?:func|meth):)?`*(?:ember\.|torch\.)?"
                       r"(?P<target>\w+(?:\.\w+)*)")


def _resolve(dotted: str):
    """The object a dotted public name names (a module, class, or attribute)."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for p in parts[i:]:
            obj = getattr(obj, p)
        return obj
    raise ImportError(dotted)


def _module_names(mod) -> list[str]:
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n in dir(mod) if not n.startswith("_")]
    return sorted(set(names))


def _is_api(obj) -> bool:
    """Functions and classes count; modules, dtypes, constants and foreign objects do not."""
    if inspect.ismodule(obj) or not callable(obj):
        return False
    mod = getattr(obj, "__module__", None) or ""
    return mod.startswith("ember") or mod == __name__


def _class_members(cls, prefix):
    """(name, object, kind) for the public methods and properties defined on ``cls``."""
    out = []
    for klass in cls.__mro__:
        if klass is object or not (klass.__module__ or "").startswith("ember"):
            continue
        for n, raw in sorted(vars(klass).items()):
            if n.startswith("_") or any(name == f"{prefix}.{n}" for name, *_ in out):
                continue
            if isinstance(raw, property):
                out.append((f"{prefix}.{n}", raw, "property"))
            elif isinstance(raw, (staticmethod, classmethod)):
                out.append((f"{prefix}.{n}", raw.__func__, "function"))
            elif callable(raw) and not inspect.isclass(raw):
                out.append((f"{prefix}.{n}", raw, "method"))
    return out


def walk():
    """Yield (namespace, public name, object, kind) once per distinct object."""
    seen: set[int] = set()
    for ns in NAMESPACES:
        obj = _resolve(ns)
        if inspect.isclass(obj):
            entries = _class_members(obj, ns)
        else:
            entries = []
            for n in _module_names(obj):
                v = getattr(obj, n, None)
                if _is_api(v):
                    entries.append((f"{ns}.{n}", v, "class" if inspect.isclass(v)
                                    else "function"))
        for cls_name in MEMBER_CLASSES:
            if cls_name.rpartition(".")[0] == ns:
                entries += _class_members(_resolve(cls_name), cls_name)
        for name, v, kind in entries:
            key = id(v.fget if isinstance(v, property) else v)
            if key in seen:
                continue
            seen.add(key)
            yield ns, name, v, kind


def _takes_args(obj, kind) -> bool:
    target = obj.__init__ if kind == "class" else obj
    if kind == "class" and target is object.__init__:
        return False
    try:
        params = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        return True  # no signature to read: ask for an Args section
    if kind == "class":  # a constructor passing *args, **kwargs on takes none of its own
        params = [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if params and params[0].name in ("self", "cls") and (kind != "function"
                                                          or inspect.isclass(obj)):
        params = params[1:]
    return bool(params)


def _is_layer(name, obj) -> bool:
    if not name.startswith("ember.nn.") or name.startswith("ember.nn.utils"):
        return False
    return issubclass(obj, ember.nn.Module) and obj.__name__ not in NO_SHAPE \
        and not obj.__name__.startswith("_")


def _reference_target(name, target_name, this):
    """The object a reference names, looked up beside ``name``, on Tensor, then in ember."""
    here = _resolve(name.rpartition(".")[0])
    for root in (here, ember.Tensor, ember):
        obj = root
        for part in target_name.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is not None and obj is not this:
            return obj
    return None


def problems(name, obj, kind, documented=None) -> list[str]:
    """What the docstring of ``obj`` (published as ``name``) lacks; [] when complete."""
    target = obj
    doc = inspect.cleandoc(getattr(target, "__doc__", None) or "")
    if kind == "class" and doc == inspect.cleandoc(getattr(obj.__mro__[1], "__doc__", "")
                                                   or ""):
        doc = ""  # inherited from the base class, which documents something else
    if not doc:
        return ["no docstring"]
    lines = doc.splitlines()
    if SIGNATURE_LINE.match(lines[0].strip()) and len(lines) > 1:
        lines = [ln for ln in lines[1:]]
        while lines and not lines[0].strip():
            lines.pop(0)
    if not lines or SECTION.match(lines[0]):
        return ["no one-line summary"]
    m = REFERENCE.match(lines[0].strip())
    if m and kind in ("method", "function") and documented is not None:
        target_name = m.group("target")
        target = _reference_target(name, target_name, obj)
        ok = target is not None and id(target) in documented
        return [] if ok else [f"refers to {target_name}, which is not documented"]
    found = {s.rstrip("s") if s != "Args" else s for s in SECTION.findall(doc)}
    found = {"Args" if s == "Argument" else s for s in found}
    missing = []
    if kind != "property" and "Args" not in found and _takes_args(obj, kind):
        missing.append("Args")
    if kind in ("function", "method") and not found & {"Return", "Yield"}:
        missing.append("Returns")
    if kind == "class" and _is_layer(name, obj) and "Shape" not in found:
        missing.append("Shape")
    if "Example" not in found or ">>>" not in doc:
        missing.append("Example")
    return missing


def run_example(name, obj, kind) -> str:
    """Run the doctest examples of a docstring; the failure report, or '' when they pass."""
    import ember.nn.functional as F

    target = obj
    mod = sys.modules.get(getattr(target, "__module__", None) or "", ember)
    globs = dict(vars(mod))  # the names of the defining module, as doctest gives them
    globs.update(ember=ember, nn=ember.nn, F=F)
    ember.manual_seed(0)
    # The two names optimizer and scheduler examples take as given (NOTE in the docstring).
    globs["model"] = ember.nn.Linear(4, 2)
    globs["opt"] = ember.optim.SGD(globs["model"].parameters(), lr=0.1)
    test = doctest.DocTestParser().get_doctest(inspect.cleandoc(target.__doc__), globs, name,
                                               None, 0)
    dtype, grad = ember.get_default_dtype(), ember.is_grad_enabled()
    rng = ember.get_rng_state()
    ember.manual_seed(0)
    out: list[str] = []
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    cwd = os.getcwd()
    try:
        with warnings.catch_warnings(), tempfile.TemporaryDirectory() as tmp:
            warnings.simplefilter("ignore")  # a deprecated API's own example warns
            os.chdir(tmp)  # examples that save files write them here
            runner.run(test, out=out.append, clear_globs=True)
    finally:
        os.chdir(cwd)
        ember.set_default_dtype(dtype)
        ember.set_grad_enabled(grad)
        ember.set_rng_state(rng)
    return "".join(out) if runner.failures else ""


def collect(examples=True):
    """{name: (namespace, object, kind, problems)} for the whole public API.

    With ``examples``, a complete docstring whose examples fail gets the problem
    ``"example fails"`` and its doctest report is kept in ``REPORTS``.
    """
    entries = list(walk())
    out, complete = {}, set()
    for ns, name, obj, kind in entries:
        p = problems(name, obj, kind)
        out[name] = (ns, obj, kind, p)
        if not p:
            complete.add(id(obj))
    for name, (ns, obj, kind, p) in out.items():  # second pass: references to functions
        if p and kind in ("method", "function"):
            p2 = problems(name, obj, kind, complete)
            out[name] = (ns, obj, kind, p2)
    if examples:
        for name, (ns, obj, kind, p) in out.items():
            if not p and id(obj) in complete:
                report = run_example(name, obj, kind)
                if report:
                    REPORTS[name] = report
                    out[name] = (ns, obj, kind, ["example fails"])
    return out


REPORTS: dict[str, str] = {}


def read_todo() -> list[str]:
    return [ln.strip() for ln in TODO_FILE.read_text().splitlines()
            if ln.strip() and not ln.startswith("#")]


@pytest.fixture(scope="module")
def api():
    return collect()


def test_walk_finds_the_api(api):
    for name in ("ember.tensor", "ember.Tensor.backward", "ember.nn.Linear",
                 "ember.nn.functional.cross_entropy", "ember.optim.Adam",
                 "ember.nn.Module.state_dict", "ember.Tensor.shape"):
        assert name in api, name
    assert len(api) > 1000


def test_problems_reads_the_sections():
    def good(x, dim=0):
        """Do a thing.

        Args:
            x: input.
            dim: a dim.

        Returns:
            The thing.

        Example:
            >>> 1 + 1
            2
        """

    def bare(x):
        """Do a thing."""

    assert problems("m.good", good, "function") == []
    assert problems("m.bare", bare, "function") == ["Args", "Returns", "Example"]
    assert problems("m.none", lambda: 0, "function") == ["no docstring"]
    # a layer without Shape: the class check asks for it
    class Layer(ember.nn.Module):
        """A layer.

        Args:
            n: size.

        Example:
            >>> 1
            1
        """

        def __init__(self, n):
            super().__init__()

    assert problems("ember.nn.Layer", Layer, "class") == ["Shape"]


def test_ratchet(api):
    """NOTE [ The docstring ratchet ]."""
    todo = read_todo()
    assert len(todo) == len(set(todo)), "docstrings_todo.txt lists a name twice"
    todo_set = set(todo)
    gone = sorted(todo_set - set(api))
    fixed = sorted(n for n in todo_set & set(api) if not api[n][3])
    new = sorted(f"{n}: lacks {', '.join(api[n][3])}" for n in set(api) - todo_set
                 if api[n][3])
    msg = []
    if new:
        msg.append("public names without a complete docstring (add Args/Returns/Example, "
                   "see the module docstring):\n  " + "\n  ".join(new))
    if fixed:
        msg.append("documented now: delete these lines from tests/docstrings_todo.txt:\n  "
                   + "\n  ".join(fixed))
    if gone:
        msg.append("no longer public: delete these lines from tests/docstrings_todo.txt:\n  "
                   + "\n  ".join(gone))
    reports = [REPORTS[n] for n in sorted(set(api) - todo_set) if n in REPORTS]
    if reports:
        msg.append("failing examples:\n" + "\n".join(reports))
    assert not msg, "\n".join(msg)


def counts(api) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = {}
    for ns, obj, kind, p in api.values():
        c = out.setdefault(ns, [0, 0])
        c[0] += not p
        c[1] += 1
    return {k: tuple(v) for k, v in out.items()}


def test_counts_printed(api, capsys):
    """The per-namespace table (shown with ``pytest -s`` or ``python tests/this_file``)."""
    table = counts(api)
    assert sum(t for _, t in table.values()) == len(api)
    with capsys.disabled():
        done = sum(d for d, _ in table.values())
        print(f"\ndocstrings: {done}/{len(api)} public API objects documented")




def test_docstring_tables_name_public_objects():
    """Every key of ember/_docs's tables names an object (NOTE [ Docstring tables ])."""
    from ember import _docs

    for name in _docs.TABLES:
        mod = importlib.import_module(name)
        assert _docs.attach(name, vars(mod)) == [], name


def main(argv):
    api = collect()
    if "--shrink" in argv:  # drop the names documented (or removed) since: never adds one
        keep = [n for n in read_todo() if n in api and api[n][3]]
        head = [ln for ln in TODO_FILE.read_text().splitlines() if ln.startswith("#")]
        TODO_FILE.write_text("\n".join(head + keep) + "\n")
        print(f"{len(read_todo())} names left in {TODO_FILE.name}")
        return 0
    if "--todo" in argv:
        for n in sorted(api, key=list(api).index):
            if api[n][3]:
                print(n)
        return 0
    for ns, (d, t) in counts(api).items():
        print(f"{ns:28s} {d:5d} / {t:5d}")
    d = sum(not v[3] for v in api.values())
    print(f"{'total':28s} {d:5d} / {len(api):5d}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
