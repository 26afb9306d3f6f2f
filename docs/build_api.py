"""Build the API reference (HTML) from ember's docstrings with pdoc.

Run from the repository root (needs the ``docs`` extra, i.e. ``pip install pdoc``)::

    python docs/build_api.py                 # every public module into docs/api/
    python docs/build_api.py -o /tmp/api ember.optim ember.serialization

Open ``docs/api/index.html`` (or ``docs/api/ember.html``) in a browser. The output is not
committed (``docs/api/`` is in ``.gitignore``); rebuild it whenever docstrings change.

Docstrings are written in Google style (``Args:``, ``Returns:``, ``Example:``) with
reStructuredText literals (````code````), which is pdoc's ``google`` docformat. Private
modules (``ember._ops``, ``ember.nn._functional_linear``, ...) are left out: their public
names are documented where users reach them (``ember.tanh`` on the ``ember`` page,
``ember.nn.functional.relu`` on the ``ember.nn.functional`` page).
"""

from __future__ import annotations

import argparse
import pkgutil
import sys
import types
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "api"

# The public packages; pdoc walks their public submodules itself, but only those a package's
# __all__ names when it has one: ember.nn.utils and its rnn module are not reached that way.
PUBLIC_MODULES = ["ember", "ember.nn.utils", "ember.nn.utils.rnn"]
# pdoc's negative specs are regexes matched from the start of a module name: this one drops
# every module whose own name or any parent's name starts with an underscore.
PRIVATE = r"!(.*\.)?_"


def _public_names(module: types.ModuleType) -> list[str]:
    """The public, non-module attributes of ``module`` (what ``dir`` shows, minus ``_x``)."""
    return sorted(n for n in dir(module) if not n.startswith("_")
                  and not isinstance(getattr(module, n), types.ModuleType))


def _expose_top_level() -> None:
    """Make pdoc document the functions that ``ember/__init__.py`` re-exports.

    pdoc documents a module's own definitions, or exactly its ``__all__`` when there is one.
    ``ember`` re-exports ~350 functions from ``ember._ops`` and defines no ``__all__``, so
    without this the ``ember`` page would miss ``ember.tensor``, ``ember.add``, ... . The
    attribute is set only in this build process.
    """
    import ember

    if not hasattr(ember, "__all__"):
        # With an __all__, pdoc walks only the submodules it names: list the public ones.
        subs = [m.name for m in pkgutil.iter_modules(ember.__path__) if not m.name.startswith("_")]
        ember.__all__ = _public_names(ember) + sorted(subs)


def build(out: Path | str = DEFAULT_OUT, modules: list[str] | None = None) -> list[Path]:
    """Render the API reference for ``modules`` (default: all public ones) into ``out``.

    Args:
        out: output directory (created if missing).
        modules: module names; private submodules are always excluded.

    Returns:
        The HTML files written.

    Example:
        >>> build("/tmp/api", ["ember.optim"])  # doctest: +SKIP
    """
    try:
        import pdoc
        import pdoc.render
    except ImportError:
        raise SystemExit("pdoc is not installed: pip install pdoc (or the 'docs' extra)") \
            from None
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # document this checkout, even when not pip-installed
    import ember

    _expose_top_level()
    pdoc.render.configure(docformat="google", show_source=False,
                          footer_text=f"ember {ember.__version__}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    specs = list(modules or PUBLIC_MODULES) + [PRIVATE]
    with warnings.catch_warnings():
        # A module reached from two specs (ember.nn.utils) is rendered once; pdoc warns.
        warnings.filterwarnings("ignore", message=".*has already been added.*")
        pdoc.pdoc(*specs, output_directory=out)
    return sorted(out.rglob("*.html"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=str(DEFAULT_OUT), help="output directory")
    ap.add_argument("modules", nargs="*", help="modules to document (default: all public)")
    args = ap.parse_args(argv)
    files = build(args.output, args.modules or None)
    print(f"wrote {len(files)} pages to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
