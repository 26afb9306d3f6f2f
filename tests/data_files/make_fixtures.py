"""Write the checkpoint fixtures that tests load WITHOUT PyTorch (needs torch to run).

Run from the repository root: ``python tests/data_files/make_fixtures.py``. It writes small
``*.pt`` files with ``torch.save`` and ``expected.npz`` holding, for every tensor in them, the
values (as NumPy arrays, bfloat16 as its raw uint16 bits) that ember must load. Contents are
deterministic so the files only change when this script does.
"""

from __future__ import annotations

import collections
import pathlib

import numpy as np
import torch

HERE = pathlib.Path(__file__).resolve().parent


def _np(t):
    t = t.detach()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(np.uint16).copy()
    if t.is_conj():
        t = t.resolve_conj()
    if t.is_neg():
        t = t.resolve_neg()
    return t.numpy().copy()


def _collect(prefix, obj, out):
    """Flatten every tensor in ``obj`` into ``out`` under a path-like key."""
    if isinstance(obj, torch.Tensor):
        out[prefix] = _np(obj)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _collect(f"{prefix}/{k}", v, out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _collect(f"{prefix}/{i}", v, out)


def model():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.ReLU(), torch.nn.Linear(3, 2),
        torch.nn.Embedding(5, 2))
    net[1].running_mean += 0.5
    return net


def build():
    files = {}
    net = model()
    files["state_dict"] = net.state_dict()

    opt = torch.optim.Adam(net[:4].parameters(), lr=1e-2, betas=(0.8, 0.9))
    for _ in range(2):
        opt.zero_grad()
        net[:4](torch.linspace(-1, 1, 8).reshape(2, 4)).pow(2).sum().backward()
        opt.step()
    files["optimizer"] = opt.state_dict()

    dt = {}
    for name in ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32",
                 "int64", "uint8"):
        d = getattr(torch, name)
        dt[name] = (torch.arange(-3, 9) % 7).to(d).reshape(3, 4)
    dt["bool"] = torch.tensor([True, False, True])
    dt["complex64"] = torch.tensor([1 + 2j, -3.5j], dtype=torch.complex64)
    dt["complex128"] = torch.tensor([[0.25 - 1j]], dtype=torch.complex128)
    dt["scalar"] = torch.tensor(2.5)
    dt["scalar_int"] = torch.tensor(-7)
    dt["empty"] = torch.empty(0, 3)
    dt["empty_int"] = torch.zeros(2, 0, dtype=torch.int64)
    dt["conj"] = torch.tensor([1 + 1j, 2 - 3j]).conj()
    dt["neg"] = torch.tensor([1 + 1j, 2 - 3j]).conj().imag
    files["dtypes"] = dt

    base = torch.arange(24, dtype=torch.float32)
    mat = base.reshape(4, 6)
    files["views"] = {
        "base": base, "mat": mat, "row": mat[1], "col": mat[:, 2], "t": mat.t(),
        "step": base[1::3], "sub": mat[1:3, 2:5], "expanded": base[:1].expand(3, 2),
        "same": [mat, mat],
    }

    files["nested"] = {
        "list": [1, 2.5, "three", None, True, [torch.ones(2)]],
        "tuple": (torch.zeros(1), (1, (2, 3))),
        "odict": collections.OrderedDict(b=torch.tensor([1, 2]), a=3),
        "set": {1, 2, 3}, "frozenset": frozenset({"x"}), "bytes": b"\x00\xffab",
        "complex": 1 - 2j, "big_int": 2**70, "neg": -(2**40), "float": 1e-300,
        "size": torch.Size([2, 3]), "dtype": torch.float16, "unicode": "héllo ✓",
        "int_keys": {0: "a", -1: "b"}, "bytearray": bytearray(b"xy"),
    }

    p = torch.nn.Parameter(torch.arange(3.0))
    q = torch.nn.Parameter(torch.arange(2.0), requires_grad=False)
    files["parameters"] = {"p": p, "q": q, "grad": torch.ones(2).requires_grad_()}

    for name, obj in files.items():
        torch.save(obj, HERE / f"{name}.pt")
    torch.save(files["views"], HERE / "legacy_views.pt", _use_new_zipfile_serialization=False)
    torch.save(files["dtypes"], HERE / "legacy_dtypes.pt", _use_new_zipfile_serialization=False)
    torch.save(files["nested"], HERE / "protocol4.pt", pickle_protocol=4)

    expected = {}
    for name, obj in files.items():
        _collect(name, obj, expected)
    np.savez(HERE / "expected.npz", **expected)


if __name__ == "__main__":
    build()
    total = sum(f.stat().st_size for f in HERE.iterdir() if f.suffix in (".pt", ".npz"))
    print(f"wrote fixtures: {total} bytes")
