"""Collectives on CUDA tensors: NCCL through CuPy's bindings (``init_process_group("nccl")``).

NOTE [ Collectives on NCCL ]
A group made with ``backend="nccl"`` keeps its MPI communicator (rendezvous, ``barrier``,
the object collectives, CPU tensors) and, from its first collective on a CUDA tensor, an
NCCL communicator too: ``cupy.cuda.nccl.NcclCommunicator(size, unique_id, rank)``, where
group rank 0 draws the unique id (``get_unique_id``) and hands it to the other members
through the default group's store (PyTorch exchanges it the same way). ``all_reduce``,
``broadcast``, ``reduce``, ``all_gather``, ``all_gather_into_tensor`` and
``reduce_scatter_tensor`` enter here from ``_c10d`` when their tensor's data is not a host
array; they check arguments with the MPI path's rules and messages, then issue one NCCL call
on the current CuPy stream, so the result is ordered before whatever the stream runs next
(the ``Work`` of ``async_op=True`` waits on an event recorded after the call). Reductions
run in the tensor's dtype (float16 natively; NCCL lacks bfloat16 and so does CuPy); ``bool``
reduces as uint8 with MAX (SUM/MAX) or MIN (PRODUCT/MIN), as PyTorch does; ``AVG`` is a
``SUM`` divided by the group size; the bitwise ops raise, as PyTorch's NCCL does.

Groups of another backend ("mpi", "gloo") take CUDA tensors too, staged through host
copies and the MPI collective (what PyTorch's gloo does); the other collectives refuse CUDA
tensors with NotImplementedError. CPU tensors on an NCCL group run on MPI (PyTorch's NCCL
would refuse them). Importing this module never imports CuPy.
"""

from __future__ import annotations

import numpy as np

# the collectives that accept CUDA tensors (``_c10d._check_tensor`` refuses them elsewhere)
SUPPORTED = frozenset({"all_reduce", "broadcast", "reduce", "all_gather",
                       "all_gather_into_tensor", "reduce_scatter_tensor"})
_STATE = {"module": None, "reason": None}
_SEQ = {}  # (group ranks, rank) -> communicators made for such groups (store keys)


def _module():
    """``cupy.cuda.nccl``, or None with the reason noted."""
    if _STATE["module"] is not None:
        return _STATE["module"]
    from ember import cuda

    if not cuda.is_available():
        _STATE["reason"] = "no CUDA device is available to ember (see ember.cuda)"
        return None
    try:
        from cupy.cuda import nccl
    except Exception as e:  # ImportError, or libnccl missing behind it
        _STATE["reason"] = f"CuPy's NCCL bindings did not load ({type(e).__name__}: {e})"
        return None
    if not getattr(nccl, "available", True):
        _STATE["reason"] = "CuPy was built without NCCL"
        return None
    _STATE["module"] = nccl
    return nccl


def is_available() -> bool:
    """Whether ``backend="nccl"`` works here: a CUDA device and CuPy's NCCL bindings.

    Returns:
        bool.

    Example::

        >>> from ember.distributed import _nccl
        >>> isinstance(_nccl.is_available(), bool)
        True
    """
    return _module() is not None


def _reset_for_tests():
    _STATE.update(module=None, reason=None)
    _SEQ.clear()


def check_backend(name: str) -> None:
    """Refuse ``backend="nccl"`` where NCCL cannot run (PyTorch's RuntimeError)."""
    if name == "nccl" and not is_available():
        raise RuntimeError(f"Distributed package doesn't have NCCL built in: "
                           f"{_STATE['reason']}")


def use_device_id(device_id, backend: str) -> None:
    """``init_process_group(device_id=...)``: a CUDA device becomes the current device."""
    from ember._device import device as _device

    d = _device(device_id) if not hasattr(device_id, "type") else device_id
    if d.type != "cuda" or backend != "nccl":
        raise NotImplementedError(f"init_process_group: device_id={device_id!r} (ember binds "
                                  "a CUDA device only with backend='nccl')")
    from ember import cuda

    if d.index is not None:
        cuda.set_device(d.index)


def refuse(what: str) -> None:
    """A collective without a CUDA path was given a CUDA tensor."""
    raise NotImplementedError(
        f"{what}: CUDA tensors are not supported by ember's {what} (all_reduce, broadcast, "
        "reduce, all_gather, all_gather_into_tensor and reduce_scatter_tensor take them); "
        "copy the tensor to the CPU first")


# ------------------------------------------------------------------------ communicators
def _comm(pg):
    """The group's NCCL communicator, made on first use (every member calls this from the
    same collective, so the unique id's store key agrees)."""
    comm = getattr(pg, "_nccl_comm", None)
    if comm is not None:
        return comm
    from ember.distributed import _c10d

    nccl = _module()
    ranks = tuple(pg._ranks)
    # the n-th communicator for these ranks has the same key on every member (keyed by the
    # member's position too, so that ranks played by threads of one process count apart)
    seq = _SEQ.get((ranks, pg.rank()), 0)
    _SEQ[(ranks, pg.rank())] = seq + 1
    key = f"ember_nccl/{'_'.join(map(str, ranks))}/{seq}"
    store = _c10d._S.store
    if pg.rank() == 0:
        uid = nccl.get_unique_id()
        # CuPy 14 gives bytes; older CuPy a tuple of 128 signed chars
        payload = b"B" + uid if isinstance(uid, bytes) else \
            b"T" + bytes(x & 0xFF for x in uid)
        store.set(key, payload)
    else:
        payload = store.get(key)
    raw = bytes(payload[1:])
    uid = raw if payload[:1] == b"B" else tuple(b - 256 if b > 127 else b for b in raw)
    comm = nccl.NcclCommunicator(pg.size(), uid, pg.rank())
    pg._nccl_comm = comm
    return comm


def _stream_ptr():
    import cupy

    return cupy.cuda.get_current_stream().ptr


_DTYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64",
           "int8": "NCCL_INT8", "uint8": "NCCL_UINT8", "int32": "NCCL_INT32",
           "uint32": "NCCL_UINT32", "int64": "NCCL_INT64", "uint64": "NCCL_UINT64"}


def _buffer(arr, what):
    """(contiguous device array NCCL reads/writes, NCCL datatype, element count, the array
    to copy back into or None). Booleans travel as uint8, complex numbers as pairs of
    their real type."""
    import cupy

    back = None
    if not arr.flags.c_contiguous:
        back, arr = arr, cupy.ascontiguousarray(arr)
    flat = arr.reshape(-1)
    if flat.dtype.kind == "b":
        flat = flat.view(np.uint8)
    elif flat.dtype.kind == "c":
        flat = flat.view(np.float32 if flat.dtype.itemsize == 8 else np.float64)
    name = _DTYPES.get(flat.dtype.name)
    if name is None:
        from ember.distributed._c10d import _ember_dtype_name

        raise RuntimeError(f"{what}: dtype {_ember_dtype_name(arr.dtype)} is not supported "
                           "by NCCL")
    return arr, flat, getattr(_module(), name), back


def _nccl_op(op, dtype, what):
    """(NCCL op, divide by the group size afterwards) for a ReduceOp on ``dtype``."""
    from ember.distributed._c10d import RedOpType, _bad_op, _red_op

    nccl = _module()
    op = _red_op(op)
    if op == RedOpType.PREMUL_SUM:
        raise NotImplementedError(f"{what}: ReduceOp.PREMUL_SUM is not supported")
    if op in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR):
        raise RuntimeError(f"{what}: Cannot use ReduceOp.{op.name} with NCCL")
    kind = dtype.kind
    if kind == "b":
        return (nccl.NCCL_MAX if op in (RedOpType.SUM, RedOpType.MAX, RedOpType.AVG)
                else nccl.NCCL_MIN), False
    if kind == "c" and op not in (RedOpType.SUM, RedOpType.AVG):
        _bad_op(what, op, dtype)
    if op == RedOpType.AVG and kind in "iu":
        _bad_op(what, op, dtype)
    table = {RedOpType.SUM: nccl.NCCL_SUM, RedOpType.AVG: nccl.NCCL_SUM,
             RedOpType.PRODUCT: nccl.NCCL_PROD, RedOpType.MIN: nccl.NCCL_MIN,
             RedOpType.MAX: nccl.NCCL_MAX}
    return table[op], op == RedOpType.AVG


class _Work:
    """``Work`` of an NCCL call: complete once the current stream passes its event."""

    # read by DDP's progress polling (MPI requests need a test call to advance): NCCL runs
    # on the device by itself, so there is never anything for the host to drive
    _done = True

    def __init__(self, result, after=None):
        import cupy

        self._result = result
        self._after = after
        self._event = cupy.cuda.Event(disable_timing=True)
        self._event.record()

    def is_completed(self):
        """Whether the GPU finished the operation."""
        return self._event.done

    def wait(self, timeout=None):  # noqa: ARG002 - later work on the stream is ordered after
        """Order later work on the current stream after the operation (it already is: the
        call ran on that stream); True."""
        if self._after is not None:
            f, self._after = self._after, None
            f()
        return True

    def synchronize(self):
        """Block the host until the GPU finished the operation."""
        self.wait()
        self._event.synchronize()

    def is_success(self):
        return self._event.done

    def exception(self):
        return None

    def result(self):
        return self._result

    def get_future(self):
        from ember.distributed._c10d import _Future

        return _Future(self)


def _done(tensors, async_op, after=None):
    for t in tensors:
        t._bump()
    if async_op:
        return _Work(list(tensors), after)
    if after is not None:
        after()
    return None


# ------------------------------------------------------------------------ collectives
def _group(group):
    from ember.distributed import _c10d

    return _c10d._pg(group)


def _staged(fn, tensors, args, async_op):
    """A CUDA collective on a non-NCCL group: host copies through the MPI collective."""
    from ember._backends import for_device

    hosts = [t.detach().cpu() for t in tensors]
    fn(*args(hosts))
    backend = for_device("cuda")
    for t, h in zip(tensors, hosts, strict=True):
        t._data[...] = backend.from_host(h._data)
    return _done(tensors, async_op)


def all_reduce(tensor, op, group, async_op):
    """``all_reduce`` of a CUDA tensor (NOTE [ Collectives on NCCL ])."""
    what = "all_reduce"
    pg = _group(group)
    if pg is None:
        return None
    if pg._backend != "nccl":
        from ember.distributed import _c10d

        return _staged(_c10d.all_reduce, [tensor], lambda h: (h[0], op, group), async_op)
    arr = tensor._data
    nop, avg = _nccl_op(op, arr.dtype, what)
    arr, flat, dt, back = _buffer(arr, what)
    ptr = flat.data.ptr
    _comm(pg).allReduce(ptr, ptr, flat.size, dt, nop, _stream_ptr())
    if avg:
        arr /= pg.size()
    if back is not None:
        back[...] = arr
    return _done([tensor], async_op)


def broadcast(tensor, src, group, async_op, group_src):
    """``broadcast`` of a CUDA tensor."""
    from ember.distributed import _c10d

    what = "broadcast"
    pg = _group(group)
    if pg is None:
        return None
    if pg._backend != "nccl":
        return _staged(_c10d.broadcast, [tensor],
                       lambda h: (h[0], src, group, False, group_src), async_op)
    root = _c10d._root(pg, src, group_src, what, default_zero=False)
    arr, flat, dt, back = _buffer(tensor._data, what)
    ptr = flat.data.ptr
    _comm(pg).broadcast(ptr, ptr, flat.size, dt, root, _stream_ptr())
    if back is not None:
        back[...] = arr
    return _done([tensor], async_op)


def reduce(tensor, dst, op, group, async_op, group_dst):
    """``reduce`` of a CUDA tensor."""
    from ember.distributed import _c10d

    what = "reduce"
    pg = _group(group)
    if pg is None:
        return None
    if pg._backend != "nccl":
        return _staged(_c10d.reduce, [tensor],
                       lambda h: (h[0], dst, op, group, False, group_dst), async_op)
    root = _c10d._root(pg, dst, group_dst, what)
    nop, avg = _nccl_op(op, tensor._data.dtype, what)
    arr, flat, dt, back = _buffer(tensor._data, what)
    ptr = flat.data.ptr
    _comm(pg).reduce(ptr, ptr, flat.size, dt, nop, root, _stream_ptr())
    if pg.rank() != root:
        return _done([], async_op)
    if avg:
        arr /= pg.size()
    if back is not None:
        back[...] = arr
    return _done([tensor], async_op)


def all_gather(tensor_list, tensor, group, async_op):
    """``all_gather`` into a list of CUDA tensors."""
    import cupy

    from ember.distributed import _c10d

    what = "all_gather"
    pg = _group(group)
    if pg is None:
        return None
    outs = [_c10d._check_tensor(t, what, "tensor_list element") for t in tensor_list]
    if len(outs) != pg.size():
        raise ValueError(f"{what}: tensor_list has {len(outs)} tensors, expected the group "
                         f"size {pg.size()}")
    _c10d._same_layout(what, tensor._data, outs, "tensor_list")
    if pg._backend != "nccl":
        n = len(outs)
        return _staged(_c10d.all_gather, list(tensor_list) + [tensor],
                       lambda h: (h[:n], h[n], group), async_op)
    arr, flat, dt, _ = _buffer(tensor._data, what)
    recv = cupy.empty((pg.size(),) + tuple(arr.shape), arr.dtype)
    _, rflat, _, _ = _buffer(recv, what)
    _comm(pg).allGather(flat.data.ptr, rflat.data.ptr, flat.size, dt, _stream_ptr())
    for i, o in enumerate(outs):
        o[...] = recv[i]
    return _done(list(tensor_list), async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group, async_op):
    """``all_gather_into_tensor`` on CUDA tensors."""
    from ember.distributed import _c10d

    what = "all_gather_into_tensor"
    pg = _group(group)
    if pg is None:
        return None
    out, inp = output_tensor._data, input_tensor._data
    if out.size != inp.size * pg.size() or out.dtype != inp.dtype:
        raise ValueError(f"{what}: output of shape {tuple(out.shape)} ({out.dtype}) must have "
                         f"{pg.size()} x the {inp.size} elements of the input "
                         f"({inp.dtype})")
    if pg._backend != "nccl":
        return _staged(_c10d.all_gather_into_tensor, [output_tensor, input_tensor],
                       lambda h: (h[0], h[1], group), async_op)
    _, iflat, dt, _ = _buffer(inp, what)
    oarr, oflat, _, back = _buffer(out, what)
    _comm(pg).allGather(iflat.data.ptr, oflat.data.ptr, iflat.size, dt, _stream_ptr())
    if back is not None:
        back[...] = oarr
    return _done([output_tensor], async_op)


def reduce_scatter_tensor(output, input, op, group, async_op):
    """``reduce_scatter_tensor`` on CUDA tensors."""
    from ember.distributed import _c10d

    what = "reduce_scatter_tensor"
    pg = _group(group)
    if pg is None:
        return None
    out, inp = output._data, input._data
    if inp.size != out.size * pg.size() or inp.dtype != out.dtype:
        raise ValueError(f"{what}: input of shape {tuple(inp.shape)} ({inp.dtype}) must have "
                         f"{pg.size()} x the {out.size} elements of the output ({out.dtype})")
    if pg._backend != "nccl":
        return _staged(_c10d.reduce_scatter_tensor, [output, input],
                       lambda h: (h[0], h[1], op, group), async_op)
    nop, avg = _nccl_op(op, out.dtype, what)
    _, iflat, dt, _ = _buffer(inp, what)
    oarr, oflat, _, back = _buffer(out, what)
    _comm(pg).reduceScatter(iflat.data.ptr, oflat.data.ptr, oflat.size, dt, nop,
                            _stream_ptr())
    if avg:
        oarr /= pg.size()
    if back is not None:
        back[...] = oarr
    return _done([output], async_op)


# ------------------------------------------------------------------------ DDP
# NOTE [ DDP on NCCL ]
# ``DistributedDataParallel`` of a module whose parameters are CUDA tensors keeps its
# gradient buckets on the device (``xp`` below is CuPy): each bucket's flat buffer is a
# device array, gradients are scaled into it by a device kernel as they are accumulated, and
# the bucket goes to ``dist.all_reduce(async_op=True)``, which on an NCCL group is one
# ``ncclAllReduce`` on the current stream (NOTE [ Collectives on NCCL ]); waiting on the
# Work orders the stream after it, so nothing in the step reads a value on the host. On a
# "gloo"/"mpi" group the same buckets are staged through the host. As in PyTorch,
# ``device_ids`` is None or the one device the module lives on, and ``output_device``
# defaults to it. ``find_unused_parameters=True`` is refused on CUDA (its used-mask is a host
# array read after the reduction; not ported).


def ddp_setup(dev, device_ids, output_device, find_unused_parameters):
    """Check DDP's device arguments for a module on CUDA device ``dev``; return the array
    module for its buckets and PyTorch's ``device_ids``/``output_device`` attributes.

    Args:
        dev: the ``ember.device`` of the module's first parameter.
        device_ids: None, or a list of one device (an index, "cuda:N" or a device).
        output_device: None or a device; defaults to ``device_ids[0]``.
        find_unused_parameters: refused (NotImplementedError) when True.

    Returns:
        ``(xp, device_ids, output_device)``: CuPy, and ``[index]``/``index`` (both None
        when ``device_ids`` is None, as in PyTorch).

    Example::

        >>> import ember
        >>> from ember.distributed._nccl import ddp_setup
        >>> if ember.cuda.is_available():
        ...     xp, ids, out = ddp_setup(ember.device("cuda:0"), [0], None, False)
        ...     assert ids == [0] and out == 0
    """
    from ember._backends import for_device
    from ember._device import device as _device

    if find_unused_parameters:
        raise NotImplementedError("DistributedDataParallel: find_unused_parameters=True is "
                                  "not supported for a module on CUDA (NOTE [ DDP on NCCL ])")

    def index(d):
        if isinstance(d, int):
            return d
        d = d if hasattr(d, "type") else _device(d)
        if d.type != "cuda":
            raise ValueError(f"DistributedDataParallel: device {d} given for a module on "
                             f"{dev}")
        return 0 if d.index is None else d.index

    xp = for_device("cuda").xp
    if not device_ids:
        return xp, None, None
    ids = list(device_ids)
    if len(ids) != 1:
        raise ValueError("device_ids can only be None or contain a single element.")
    here = 0 if dev.index is None else dev.index
    if index(ids[0]) != here:
        raise ValueError(f"DistributedDataParallel: device_ids={device_ids} but the module's "
                         f"parameters are on {dev}")
    return xp, [here], here if output_device is None else index(output_device)
