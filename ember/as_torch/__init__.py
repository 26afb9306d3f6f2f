"""Run unmodified PyTorch programs on ember: ``torch`` and ``torchvision`` resolve to ember.

``import ember as torch`` binds one name; the first lines of most programs
(``from torch import nn``, ``import torch.nn.functional as F``,
``from torch.utils.data import DataLoader``, ``import torchvision``) still look for PyTorch.
Opt in for a whole program with::

    python -m ember.as_torch train.py --epochs 3      # a script, with its arguments
    python -m ember.as_torch -m package.module args   # a module, as python -m does

or call :func:`install` before anything imports ``torch``. Then ``torch`` is the ``ember``
module object, ``torch.X`` is ``ember.X`` (``torch.nn.functional`` is
``ember.nn.functional``), ``torchvision`` is ``ember.vision`` and ``torchvision.X`` is
``ember.vision.X``: the same objects, not copies. A name ember lacks raises
``ModuleNotFoundError`` naming the ember module that would be needed.

NOTE [ as_torch in child processes ]
In the process itself, a meta-path finder placed first on ``sys.meta_path`` maps the names
(and ``sys.modules["torch"]`` is ember). Children do not inherit ``sys.meta_path``, so
:func:`install` also puts a small shim directory (``_shim/``: packages named ``torch`` and
``torchvision`` whose ``__init__`` calls :func:`install` and replaces itself in
``sys.modules`` with ember) first on ``sys.path`` and on ``PYTHONPATH`` in ``os.environ``.
What then works:

- ``fork`` children (Linux's default for multiprocessing and DataLoader workers) inherit
  the whole interpreter state;
- ``spawn``/``forkserver`` children (``multiprocessing``, ``DataLoader(...,
  multiprocessing_context="spawn")``, ``ember.multiprocessing.spawn``) get the parent's
  ``sys.path`` from multiprocessing's preparation data, so re-running the main script there
  finds the shim at its ``import torch``;
- any other Python child (``subprocess``, launchers) finds it through the inherited
  ``PYTHONPATH``; a child started with an environment that drops ``PYTHONPATH`` falls back
  to whatever ``torch`` it can find.

No ``sitecustomize`` or ``.pth`` file is installed: nothing changes for other programs.

Example::

    >>> import subprocess, sys
    >>> code = "import ember.as_torch as a; a.install(); import torch.nn as nn; print(nn.__name__)"
    >>> subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    'ember.nn\\n'
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import sys

__all__ = ["install", "is_installed", "main"]

SHIM_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_shim")
_PREFIXES = (("torchvision", "ember.vision"), ("torch", "ember"))


def _ember_name(fullname: str):
    """``torch.nn`` -> ``ember.nn``, ``torchvision.models`` -> ``ember.vision.models``."""
    for prefix, target in _PREFIXES:
        if fullname == prefix or fullname.startswith(prefix + "."):
            return target + fullname[len(prefix):]
    return None


class _ExistingModuleLoader(importlib.abc.Loader):
    """Hands the import system an already imported ember module instead of a new one."""

    def __init__(self, module):
        self.module = module
        self.spec = getattr(module, "__spec__", None)

    def create_module(self, spec):  # noqa: ARG002 - importlib's Loader protocol
        return self.module

    def exec_module(self, module):
        # The import system has just stamped the torch-named spec on the module; ember's
        # module keeps its own (reloads, find_spec and pickling by name rely on it).
        module.__spec__ = self.spec


class _TorchFinder(importlib.abc.MetaPathFinder):
    """Resolves ``torch``/``torchvision`` names to ember's modules (NOTE above)."""

    def find_spec(self, fullname, path=None, target=None):  # noqa: ARG002 - importlib's MetaPathFinder protocol
        name = _ember_name(fullname)
        if name is None:
            return None
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name is None or not (name == e.name or name.startswith(e.name + ".")):
                raise  # an ember module exists but itself needs a missing package
            # name= the ember module: `from torch import X` then surfaces this message
            # instead of a bare "cannot import name".
            raise ModuleNotFoundError(
                f"No module named '{fullname}': ember.as_torch maps it to '{name}', which "
                "ember does not provide (not implemented yet, or not a module)",
                name=name) from None
        return importlib.util.spec_from_loader(fullname, _ExistingModuleLoader(module),
                                               is_package=hasattr(module, "__path__"))


_FINDER = _TorchFinder()


def _is_ember(module) -> bool:
    name = getattr(module, "__name__", "")
    return (name == "ember" or name.startswith("ember.")
            or os.path.dirname(getattr(module, "__file__", "") or "").startswith(SHIM_DIR))


def is_installed() -> bool:
    """Whether :func:`install` has run in this process.

    Returns:
        bool.

    Example::

        >>> import ember.as_torch
        >>> isinstance(ember.as_torch.is_installed(), bool)
        True
    """
    return _FINDER in sys.meta_path


def install(children: bool = True) -> None:
    """Make ``torch``/``torchvision`` (and their submodules) resolve to ember's modules.

    Call it before anything imports PyTorch; calling it again does nothing.

    Args:
        children: also make child processes resolve them (NOTE [ as_torch in child
            processes ]) by putting the shim directory first on ``sys.path`` and
            ``PYTHONPATH``. With False only this process is affected.

    Returns:
        None.

    Raises:
        RuntimeError: the real ``torch`` or ``torchvision`` is already imported (mixing
            the two would hand ember tensors to PyTorch code).

    Example::

        >>> import subprocess, sys
        >>> code = ("import ember.as_torch; ember.as_torch.install(); import torch, ember; "
        ...         "print(torch is ember)")
        >>> subprocess.run([sys.executable, "-c", code], capture_output=True,
        ...                text=True).stdout.strip()
        'True'
    """
    for top in ("torch", "torchvision"):
        for name, module in list(sys.modules.items()):
            if (name == top or name.startswith(top + ".")) and module is not None \
                    and not _is_ember(module):
                raise RuntimeError(
                    f"ember.as_torch.install(): the real '{name}' is already imported (from "
                    f"{getattr(module, '__file__', '?')}); install() must run before anything "
                    "imports torch or torchvision")
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    import ember

    current = sys.modules.get("torch")
    if current is None or current is not ember:
        # A shim module being imported replaces itself with ember after this returns; an
        # absent one is set here so `import torch` costs nothing more than `import ember`.
        sys.modules["torch"] = ember
    if children:
        if SHIM_DIR not in sys.path:
            sys.path.insert(0, SHIM_DIR)
        parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        if SHIM_DIR not in parts:
            os.environ["PYTHONPATH"] = os.pathsep.join([SHIM_DIR] + parts)


_USAGE = ("usage: python -m ember.as_torch SCRIPT [ARGS...]\n"
          "       python -m ember.as_torch -m MODULE [ARGS...]\n"
          "Runs a PyTorch program with torch and torchvision resolved to ember.")


def main(argv=None) -> int:
    """The ``python -m ember.as_torch`` entry point: install, then run a script or module.

    Args:
        argv: the arguments after ``-m ember.as_torch`` (default ``sys.argv[1:]``).

    Returns:
        int: the exit status (2 for bad usage); the program's own ``sys.exit`` propagates.

    Example::

        >>> import subprocess, sys
        >>> subprocess.run([sys.executable, "-m", "ember.as_torch"],
        ...                capture_output=True).returncode
        2
    """
    import runpy

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        stream = sys.stdout if argv else sys.stderr
        print(_USAGE, file=stream)
        return 0 if argv else 2
    install()
    if argv[0] == "-m":
        if len(argv) < 2:
            print(_USAGE, file=sys.stderr)
            return 2
        sys.argv = argv[1:]
        sys.path[0:0] = [os.getcwd()]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return 0
    script = argv[0]
    if not os.path.exists(script):
        print(f"python -m ember.as_torch: can't open file {script!r}: no such file",
              file=sys.stderr)
        return 2
    sys.argv = argv
    # As `python script.py` does: the script's directory first on the path (the shim stays
    # ahead of site-packages, after it).
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")
    return 0
