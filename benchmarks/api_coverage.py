"""Measure ember's coverage of PyTorch's public API and write ``docs/api_coverage.md``.

Usage::

    python benchmarks/api_coverage.py            # writes docs/api_coverage.md
    python benchmarks/api_coverage.py --print    # prints the table only

Needs the installed PyTorch (the oracle) to list the names; ember never imports it.

NOTE [ What counts as a public name ]
For each namespace the installed PyTorch lists its names (``dir`` of the module, the class
or ``__all__``), and a name counts when it is public (no leading underscore), of the kind
the namespace is about (callables for function namespaces, classes for ``nn``/``optim``,
every attribute for ``Tensor``), and not in an excluded family. ``EXCLUDED`` gives each
family a pattern and the reason it is out of scope for a NumPy CPU framework (quantized and
sparse tensors, vendor kernels, TorchScript/compiler internals, ...). A name is covered when
ember has an attribute of that name in the matching place; the tests check behaviour, this
report only checks presence. The goal is 95% of the non-excluded names in every namespace.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pathlib
import re
import types

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOAL = 95.0

_TOP = ("torch (functions)", "torch.Tensor")
# family -> (regular expression over names, reason[, namespaces]). A name matching a pattern
# is excluded from the count of the namespaces the family applies to (all when not given)
# and listed in the report under its family.
EXCLUDED = {
    "quantized": (r"quantiz|^q_|qint|quint|int_repr|fake_quant|qparams|^qscheme$|"
                  r"per_channel|per_tensor|fbgemm|observer|^quantized",
                  "quantized tensors and their kernels: ember has no quantized dtypes"),
    "sparse": (r"sparse_(csr|csc|bsr|bsc|compressed)|^to_sparse_(csr|csc|bsr|bsc)$|"
               r"^is_sparse_csr$|crow_indices|col_indices|row_indices|ccol_indices|^nnz$|"
               r"^smm$|^hsmm$|^dsmm$|hspmm|sspaddmm|^spmm$|^saddmm$|sparse_resize|"
               r"resize_as_sparse_",
               "compressed sparse layouts (CSR/CSC/BSR/BSC), sparse resizing and the legacy "
               "sparse-product spellings (smm, hspmm, sspaddmm ...): ember builds the COO "
               "layout only (ember/_sparse.py: sparse_coo_tensor, to_sparse, coalesce, "
               "indices/values, ember.sparse)", _TOP),
    "vendor kernels": (r"cudnn|miopen|mkldnn|onednn|nnpack|xnnpack|vulkan|^mps|xpu|^hip|"
                       r"^ipu|ipu_|hpu|mtia|^is_ort$|maia|^xla|_xla|cudagraph|nvtx",
                       "device- or library-specific kernels and flags (CUDA, cuDNN, MIOpen, "
                       "oneDNN, MPS, XPU, Vulkan ...): ember runs on NumPy"),
    "nested tensors": (r"nested", "nested (jagged) tensors: not supported"),
    "autocast internals": (r"autocast_(in|de)crement|autocast_cache|get_autocast_|"
                           r"set_autocast_|is_autocast_",
                           "the per-device autocast knobs behind ``torch.autocast`` (ember "
                           "exposes the context manager)"),
    "compiler and TorchScript": (r"^sym_|^Sym|^compile$|compiled_with|^jit$|^fx$|^export$|"
                                 r"import_ir|parse_ir|parse_schema|parse_type_comment|"
                                 r"merge_type|unify_type|^fork$|^wait$|while_loop|^cond$|"
                                 r"classproperty|^thread_safe_generator$|profiler_allow",
                                 "TorchScript, torch.compile and symbolic-shape internals "
                                 "(``torch.cond``/``while_loop`` are compiler control flow)",
                                 _TOP),
    "backward and native kernels": (r"_backward|_backward_|^native_|_elemt$|"
                                    r"batch_norm_(gather|stats|update|backward)|"
                                    r"^grid_sampler|^affine_grid_generator$|norm_except_dim|"
                                    r"^segment_reduce$|^conv_tbc$|^choose_qparams",
                                    "autograd and ATen-internal kernels that PyTorch happens "
                                    "to expose at the top level", _TOP + ("torch.nn.functional",)),
    "_copy views": (r"^(?!index_copy$).*_copy$",
                    "the ``*_copy`` functional variants of view ops (functorch internals)",
                    _TOP),
    "storage": (r"storage|Storage|^untyped|dlpack|^from_file$",
                "raw storages and DLPack capsules (ember shares NumPy arrays instead)"),
    "typing and dispatch helpers": (r"^Optional$|^Literal$|^boolean_dispatch$|"
                                    r"^has_torch_function|^handle_torch_function$",
                                    "names PyTorch's modules leak from their own imports: "
                                    "``typing`` re-exports and the ``__torch_function__`` "
                                    "plumbing (ember's lives in ``ember.overrides``)",
                                    ("torch.nn.functional", "torch.nn.init")),
    "fp8 and grouped GEMMs": (r"^scaled_mm$|^scaled_grouped_mm$|^grouped_mm$",
                              "CUDA GEMM kernels for fp8 scaling recipes and Mixture-of-"
                              "Experts grouped layouts (SM80+/SM90 bfloat16/fp8 with their "
                              "stride rules): ember has no fp8 dtypes or such kernels",
                              ("torch.nn.functional",)),
    "deprecated": (r"^symeig$|^eig$|^solve$|^lstsq$|^matrix_rank$|^triangular_solve$|"
                   r"^set_default_tensor_type$|^frobenius_norm$|^nuclear_norm$",
                   "removed or deprecated at the top level in PyTorch 2.x (``torch.linalg`` "
                   "holds the replacements, which are counted there)", _TOP),
}

_EXCLUDED_RE = {k: (re.compile(v[0]), v[2] if len(v) > 2 else None)
                for k, v in EXCLUDED.items()}


def family_of(name, label=None):
    """The excluded family a name belongs to in namespace ``label``, or None."""
    for fam, (rx, where) in _EXCLUDED_RE.items():
        if (where is None or label is None or label in where) and rx.search(name):
            return fam
    return None


def _public(obj, names=None):
    names = dir(obj) if names is None else names
    return sorted(n for n in names if not n.startswith("_"))


def _callables(mod, names=None):
    out = []
    for n in _public(mod, names):
        v = getattr(mod, n, None)
        if v is None or isinstance(v, types.ModuleType) or inspect.isclass(v):
            continue
        if callable(v):
            out.append(n)
    return out


def _classes(mod, base=None, names=None):
    out = []
    for n in _public(mod, names):
        v = getattr(mod, n, None)
        if inspect.isclass(v) and (base is None or issubclass(v, base)):
            out.append(n)
    return out


def _kl_pairs(dist_mod):
    reg = importlib.import_module(dist_mod.__name__ + ".kl")._KL_REGISTRY
    return sorted(f"kl({p.__name__}, {q.__name__})" for p, q in reg)


def namespaces(torch, ember):
    """label -> (torch names, predicate ``has(name)`` for ember)."""
    import torch.distributions as td
    import torch.nn as tnn
    import torch.optim.lr_scheduler as tsched

    import ember.distributions as ed
    import ember.optim.lr_scheduler as esched

    def attr(obj):
        return lambda n: hasattr(obj, n)

    def mod(name):
        return importlib.import_module(name)

    ekl = set(_kl_pairs(ed))
    return {
        "torch (functions)": (_callables(torch), attr(ember)),
        "torch.Tensor": (_public(torch.Tensor), attr(ember.Tensor)),
        "torch.nn (classes)": (_classes(tnn), attr(mod("ember.nn"))),
        "torch.nn.functional": (_callables(mod("torch.nn.functional")),
                                attr(mod("ember.nn.functional"))),
        "torch.nn.init": (_callables(mod("torch.nn.init")), attr(mod("ember.nn.init"))),
        "torch.linalg": (_callables(mod("torch.linalg")), attr(mod("ember.linalg"))),
        "torch.fft": (_callables(mod("torch.fft")), attr(mod("ember.fft"))),
        "torch.special": (_callables(mod("torch.special")), attr(mod("ember.special"))),
        "torch.distributions": (_public(None, td.__all__), attr(ed)),
        "torch.distributions.constraints": (
            [n for n in _public(td.constraints) if n not in ("Any", "Callable", "torch")],
            attr(ed.constraints)),
        "torch.distributions KL pairs": (_kl_pairs(td), lambda n: n in ekl),
        "torch.optim": (_classes(mod("torch.optim")), attr(mod("ember.optim"))),
        "torch.optim.lr_scheduler": (
            [n for n in _classes(tsched) if getattr(tsched, n).__module__ == tsched.__name__],
            attr(esched)),
        "torch.utils.data": (_public(None, mod("torch.utils.data").__all__),
                             attr(mod("ember.utils.data"))),
    }


def measure():
    """Coverage per namespace: {label: dict(total, covered, percent, missing, excluded)}."""
    import torch

    import ember

    result = {}
    for label, (names, has) in namespaces(torch, ember).items():
        counted, excluded = [], {}
        for n in names:
            fam = family_of(n, label) if not label.endswith("KL pairs") else None
            if fam:
                excluded.setdefault(fam, []).append(n)
            else:
                counted.append(n)
        missing = [n for n in counted if not has(n)]
        total = len(counted)
        covered = total - len(missing)
        result[label] = dict(total=total, covered=covered,
                             percent=100.0 * covered / total if total else 100.0,
                             missing=missing, excluded=excluded)
    return result


def render(result, torch_version):
    lines = [
        "# ember API coverage against PyTorch",
        "",
        f"Generated by `python benchmarks/api_coverage.py` against PyTorch {torch_version} "
        "(see NOTE [ What counts as a public name ] there). A name is *covered* when ember "
        "has it in the same place; behaviour is checked by the test suite, not here.",
        "",
        f"**Goal: {GOAL:.0f}% of the non-excluded names in every namespace.** Namespaces "
        "below the goal are marked; `tests/test_api_coverage.py` keeps each percentage from "
        "dropping below its current floor.",
        "",
        "| namespace | PyTorch names | ember has | coverage | goal met |",
        "|---|---:|---:|---:|:---:|",
    ]
    for label, r in result.items():
        ok = "yes" if r["percent"] >= GOAL else "**no**"
        lines.append(f"| `{label}` | {r['total']} | {r['covered']} | {r['percent']:.1f}% | "
                     f"{ok} |")
    tot = sum(r["total"] for r in result.values())
    cov = sum(r["covered"] for r in result.values())
    lines += [f"| all | {tot} | {cov} | {100.0 * cov / tot:.1f}% | "
              f"{'yes' if 100.0 * cov / tot >= GOAL else '**no**'} |", "",
              "## Excluded families", "",
              "| family | reason | names excluded |", "|---|---|---:|"]
    for fam, (_, reason, *_where) in EXCLUDED.items():
        n = sum(len(r["excluded"].get(fam, ())) for r in result.values())
        lines.append(f"| {fam} | {reason} | {n} |")
    lines += ["", "Private names (a leading underscore) are never counted.", "",
              "## Missing names", ""]
    for label, r in result.items():
        if not r["missing"]:
            continue
        lines += [f"### `{label}` ({len(r['missing'])} missing)", "",
                  ", ".join(f"`{n}`" for n in r["missing"]), ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--print", action="store_true", help="print the table, write nothing")
    p.add_argument("--out", default=str(ROOT / "docs" / "api_coverage.md"))
    args = p.parse_args(argv)
    import torch

    result = measure()
    if args.print:
        for label, r in result.items():
            print(f"{label:36} {r['covered']:4}/{r['total']:<4} {r['percent']:5.1f}%")
        return result
    pathlib.Path(args.out).write_text(render(result, torch.__version__))
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
