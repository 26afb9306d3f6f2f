"""``TracedModule.save`` / ``ember.jit.load``: a graph and its tensors, no pickled code.

NOTE [ The traced-module archive ]
A zip archive with ``ember_jit/version`` ("1"), ``ember_jit/graph.json`` (inputs, nodes
naming op records by name with their attributes in a tagged JSON encoding, outputs, the
output structure and the traced input signature) and one ``ember_jit/tensors/<i>.npy`` per
parameter, buffer and constant (``numpy.save`` with ``allow_pickle=False``; bfloat16 is
stored as its uint16 bits with the dtype in the JSON). Loading reads JSON and .npy only,
so a crafted file cannot run code; anything unexpected (a foreign zip, a missing member, an
op record this ember does not have, a bad attribute tag) raises RuntimeError naming the
file and the problem. Attributes that have no faithful encoding (a Generator object,
arbitrary Python objects) make ``save`` fail with the op and attribute named.
"""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np

from ember import _dtype as D
from ember._device import check_device
from ember._ops.core import OPS
from ember._tensor import Tensor
from ember.jit._ir import Graph, Node, Value

_PREFIX = "ember_jit/"
_VERSION = "1"


class _Unencodable(Exception):
    pass


def _enc(v):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return {"int": str(v)} if abs(v) >= 2 ** 53 else v
    if isinstance(v, float):
        return v if v == v and abs(v) != float("inf") else {"float": repr(v)}
    if isinstance(v, tuple):
        return {"tuple": [_enc(e) for e in v]}
    if isinstance(v, list):
        return {"list": [_enc(e) for e in v]}
    if isinstance(v, slice):
        return {"slice": [_enc(v.start), _enc(v.stop), _enc(v.step)]}
    if v is Ellipsis:
        return {"ellipsis": True}
    if isinstance(v, D.dtype):
        return {"edtype": str(v).rsplit(".", 1)[-1]}
    if isinstance(v, np.dtype):
        return {"npdtype": v.str if v.kind != "V" else "bfloat16"}
    if isinstance(v, type) and issubclass(v, np.generic):
        return {"nptype": np.dtype(v).str}
    if isinstance(v, np.generic):
        return _enc(v.item())
    if type(v).__name__ == "device":
        return {"device": str(v)}
    raise _Unencodable(type(v).__name__)


def _dec(v):
    if not isinstance(v, dict):
        return v
    if len(v) != 1:
        raise ValueError(f"bad attribute encoding {v!r}")
    (k, x), = v.items()
    if k == "int":
        return int(x)
    if k == "float":
        return float(x)
    if k == "tuple":
        return tuple(_dec(e) for e in x)
    if k == "list":
        return [_dec(e) for e in x]
    if k == "slice":
        return slice(*(_dec(e) for e in x))
    if k == "ellipsis":
        return Ellipsis
    if k == "edtype":
        return D._dtype_by_name(x)
    if k == "npdtype":
        return D.bfloat16.np if x == "bfloat16" else np.dtype(x)
    if k == "nptype":
        return np.dtype(x).type
    if k == "device":
        return check_device(x)
    raise ValueError(f"unknown attribute tag {k!r}")


def _array_bytes(t):
    a = np.ascontiguousarray(t.detach()._data)
    tag = None
    if a.dtype.kind == "V" or t.dtype is D.bfloat16:
        a, tag = a.view(np.uint16), "bfloat16"
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue(), tag


def save(m, f, _extra_files=None):
    from ember.jit import TracedModule

    if not isinstance(m, TracedModule):
        raise TypeError(f"ember.jit.save: expected a TracedModule (from ember.jit.trace), got "
                        f"{type(m).__name__}")
    if _extra_files:
        raise NotImplementedError("ember.jit.save: _extra_files is not supported")
    traced = m._traced
    entry = traced._require()
    if entry.breaks:
        raise RuntimeError(f"ember.jit.save: this trace cannot be replayed ({entry.breaks[0]})")
    g = entry.graph
    ids, tensors, vals = {}, [], []

    def vid(v):
        if id(v) not in ids:
            ids[id(v)] = len(vals)
            vals.append(v)
        return ids[id(v)]

    def operand(x):
        if isinstance(x, Value):
            return {"v": vid(x)}
        if isinstance(x, (list, tuple)) and any(isinstance(e, Value) for e in x):
            return {"seq": [operand(e) for e in x], "kind": type(x).__name__}
        return {"lit": _enc(x)}

    nodes = []
    for n in g.nodes:
        try:
            params = [_enc(p) for p in n.params]
        except _Unencodable as e:
            raise RuntimeError(f"ember.jit.save: op {n.op.name!r} has an attribute of type "
                               f"{e} that cannot be saved") from None

        def outs(o):
            if o is None:
                return None
            return [vid(e) for e in o] if isinstance(o, list) else vid(o)

        nodes.append({"op": n.op.name, "inputs": [operand(x) for x in n.inputs],
                      "params": params, "outputs": [outs(o) for o in n.outputs],
                      "multi": n.multi, "mutated": [[i, outs(v)] for i, v in n.mutated]})
    try:
        outputs = [operand(v) for v in g.outputs]
    except _Unencodable as e:
        raise RuntimeError(f"ember.jit.save: an output of type {e} cannot be saved") from None
    inputs = [vid(v) for v in g.inputs]
    consts = [vid(v) for v in g.consts]
    values = []
    for v in vals:
        rec = {"name": v.name, "kind": v.kind, "dtype": str(v.dtype).rsplit(".", 1)[-1],
               "shape": list(v.shape), "index": v.index}
        if v.kind in ("param", "buffer"):
            rec["key"] = v.data
            t = m.get_parameter(v.data) if v.kind == "param" else m.get_buffer(v.data)
            rec["tensor"] = len(tensors)
            tensors.append(t)
        elif v.kind == "const":
            rec["tensor"] = len(tensors)
            tensors.append(v.data)
        values.append(rec)
    fixed = traced._fixed
    sig = [[str(k[1]).rsplit(".", 1)[-1], list(k[2])] for k in (fixed or entry.key)[2:]
           if isinstance(k, tuple) and k and k[0] == "T"]
    doc = {"values": values, "inputs": inputs, "consts": consts, "nodes": nodes,
           "outputs": outputs, "out_spec": _enc_spec(g.out_spec), "signature": sig,
           "original_name": m._original_name, "training": m.training,
           "state_keys": list(m.state_dict().keys())}
    tags = []
    opened = isinstance(f, (str, os.PathLike))
    fh = open(f, "wb") if opened else f
    try:
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as z:
            z.writestr(_PREFIX + "version", _VERSION)
            for i, t in enumerate(tensors):
                data, tag = _array_bytes(t)
                tags.append(tag)
                z.writestr(f"{_PREFIX}tensors/{i}.npy", data)
            doc["tensor_tags"] = tags
            z.writestr(_PREFIX + "graph.json", json.dumps(doc))
    finally:
        if opened:
            fh.close()


def _enc_spec(spec):
    kind = spec[0]
    if kind == "leaf":
        return ["leaf", spec[1]]
    if kind == "dict":
        return ["dict", [[_enc(k), _enc_spec(s)] for k, s in spec[1]]]
    if kind == "namedtuple":
        return ["tuple", [_enc_spec(s) for s in spec[2]]]
    return [kind, [_enc_spec(s) for s in spec[1]]]


def _dec_spec(spec):
    kind = spec[0]
    if kind == "leaf":
        return ("leaf", int(spec[1]))
    if kind == "dict":
        return ("dict", [(_dec(k), _dec_spec(s)) for k, s in spec[1]])
    if kind not in ("tuple", "list"):
        raise ValueError(f"bad output structure {kind!r}")
    return (kind, [_dec_spec(s) for s in spec[1]])


def _bad(f, why):
    name = f if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "<file object>")
    return RuntimeError(f"ember.jit.load: {name} is not a valid ember.jit archive ({why})")


def load(f, map_location=None, _extra_files=None):
    if _extra_files:
        raise NotImplementedError("ember.jit.load: _extra_files is not supported")
    if map_location not in (None, "cpu") and str(map_location) != "cpu":
        raise NotImplementedError(f"ember.jit.load: map_location={map_location!r} "
                                  "(only the CPU)")
    try:
        z = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise _bad(f, f"not a zip archive: {e}") from None
    with z:
        names = set(z.namelist())
        for n in names:
            if n.startswith("/") or ".." in n.split("/"):
                raise _bad(f, f"unsafe member name {n!r}")
        if _PREFIX + "version" not in names or _PREFIX + "graph.json" not in names:
            hint = " (a PyTorch TorchScript file?)" if any(n.endswith("/code/") or
                                                             "constants.pkl" in n
                                                             for n in names) else ""
            raise _bad(f, "no ember_jit/version or ember_jit/graph.json" + hint)
        version = z.read(_PREFIX + "version").decode(errors="replace").strip()
        if version != _VERSION:
            raise _bad(f, f"archive version {version!r}, this ember reads {_VERSION!r}")
        try:
            doc = json.loads(z.read(_PREFIX + "graph.json"))
            arrays = []
            for i, tag in enumerate(doc["tensor_tags"]):
                with z.open(f"{_PREFIX}tensors/{i}.npy") as fh:
                    a = np.load(io.BytesIO(fh.read()), allow_pickle=False)
                if tag == "bfloat16":
                    a = a.view(D.bfloat16.np)
                arrays.append(a)
            return _build(doc, arrays)
        except (KeyError, ValueError, TypeError, IndexError, zipfile.BadZipFile) as e:
            raise _bad(f, f"{type(e).__name__}: {e}") from None


def _build(doc, arrays):
    from ember.jit import TracedFunction, TracedModule, _Entry
    from ember.jit._signature import signature
    from ember.nn import Module, Parameter

    root = Module()
    vals = []
    owned = {}  # state_dict key -> (kind, tensor), registered below in the saved order
    for rec in doc["values"]:
        dt = D._dtype_by_name(rec["dtype"])
        v = Value(str(rec["name"]), rec["kind"], dt, tuple(rec["shape"]), check_device("cpu"),
                  index=int(rec["index"]))
        if rec["kind"] in ("param", "buffer", "const"):
            t = Tensor._wrap(np.array(arrays[rec["tensor"]]))
            if rec["kind"] == "const":
                v.data = t
            else:
                owned[rec["key"]] = (rec["kind"], t)
                v.data = rec["key"]
        vals.append(v)
    order = [k for k in doc.get("state_keys", []) if k in owned]
    for key in order + [k for k in owned if k not in order]:
        kind, t = owned[key]
        *path, leaf = key.split(".")
        owner = root
        for p in path:
            if p not in owner._modules:
                owner.add_module(p, Module())
            owner = owner._modules[p]
        if kind == "param":
            owner.register_parameter(leaf, Parameter(t))
        else:
            owner.register_buffer(leaf, t)

    def operand(x):
        if "v" in x:
            return vals[x["v"]]
        if "seq" in x:
            seq = [operand(e) for e in x["seq"]]
            return tuple(seq) if x["kind"] == "tuple" else seq
        return _dec(x["lit"])

    g = Graph()
    g.inputs = [vals[i] for i in doc["inputs"]]
    g.consts = [vals[i] for i in doc["consts"]]
    for nd in doc["nodes"]:
        op = OPS.get(nd["op"])
        if op is None:
            raise ValueError(f"op record {nd['op']!r} does not exist in this ember")

        def outs(o):
            if o is None:
                return None
            return [vals[i] for i in o] if isinstance(o, list) else vals[o]

        n = Node(op, [operand(x) for x in nd["inputs"]],
                 tuple(_dec(p) for p in nd["params"]), [outs(o) for o in nd["outputs"]],
                 multi=bool(nd["multi"]))
        n.mutated = [(int(i), outs(v)) for i, v in nd["mutated"]]
        g.nodes.append(n)
    g.outputs = [operand(x) for x in doc["outputs"]]
    g.out_spec = _dec_spec(doc["out_spec"])

    root.train(bool(doc.get("training", False)))
    m = TracedModule(root)
    m.__dict__["_original_name"] = str(doc.get("original_name", "Module"))
    m.training = bool(doc.get("training", False))
    example = tuple(Tensor._wrap(np.zeros(s, D.bfloat16.np if d == "bfloat16" else np.dtype(d)))
                    for d, s in doc["signature"])
    tf = TracedFunction(lambda *a: _refuse(m, a), module=m)
    tf._modules = list(root.modules())
    key, _, _ = signature(example, {}, tf._modules)
    tf._fixed = key
    e = _Entry(g, [], key)
    tf._entries[key] = e
    # the same graph serves with and without grad mode (replays record what autograd needs)
    tf._entries[(key[0], not key[1]) + key[2:]] = e
    tf._last = e
    m.__dict__["_traced"] = tf
    return m


def _refuse(m, args):  # noqa: ARG001 - called as the traced forward (m, args); it only refuses
    raise RuntimeError(f"ember.jit.load: this {m._original_name} was saved for one input "
                       "signature and cannot be traced again (its Python code is not in the "
                       "archive); call it with inputs of the saved shapes and dtypes")
