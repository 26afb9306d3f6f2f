"""``python -m ember._ops``: list the op table (records and public names)."""

from __future__ import annotations

import argparse

import ember  # noqa: F401  (defines every op)
from ember._ops.core import FUNCTIONS, METHODS, OPS


def public_names():
    """Public op names: functions and methods, each name once, in-place/private excluded."""
    names = set(FUNCTIONS) | {m for m in METHODS if not m.startswith("__")}
    return sorted(n for n in names if not n.endswith("_") and not n.startswith("_"))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--records", action="store_true", help="list OpDef records, not names")
    args = p.parse_args()
    if args.records:
        print(f"{'op':28} {'differentiable':14} {'view':5} {'onnx':12} node")
        for name, op in sorted(OPS.items()):
            print(f"{name:28} {'yes' if op.differentiable and op.bwd else 'no':14} "
                  f"{'yes' if op.view else 'no':5} {op.onnx or '-':12} {op.node_name}")
        print(f"{len(OPS)} op records")
        return
    names = public_names()
    for n in names:
        kind = ("function+method" if n in FUNCTIONS and n in METHODS else
                "function" if n in FUNCTIONS else "method")
        inplace = "in-place" if n + "_" in METHODS else ""
        print(f"{n:28} {kind:16} {inplace}")
    print(f"{len(names)} public ops")


if __name__ == "__main__":
    main()
