"""``DistributedDataParallel``: data-parallel training over ember.distributed (MPI).

NOTE [ DDP buckets and overlap ]
At construction rank 0's parameters and buffers are broadcast, so every replica starts equal.
Parameters that require grad are walked in reverse registration order (roughly the order
backward produces their gradients). One whose gradient is at least 256 KiB (or the cap, if
smaller) is a bucket of its own, all-reduced in place on the gradient's own array: no copy
in or out. The others are packed into flat buffers of one dtype and at most
``bucket_cap_mb`` (the first capped at 1 MB, as in PyTorch), which stay open across the large
ones, so a bias between two large weights costs no all-reduce of its own. Buckets are ordered
by when their last gradient should arrive.

The engine accumulates each leaf once per backward, with all its contributions summed, so
a post-accumulate-grad hook on every parameter marks it ready exactly once. With
``find_unused_parameters`` each forward also finds, by walking the recorded graph from the
outputs, which parameters will receive a gradient. The hook scales the gradient by 1/world
right away, while it is still in cache (in place for a bucket of one, while copying it into
its slot otherwise): PyTorch divides before reducing too, and it saves a division pass
after the reduction. When a bucket's gradients are all in, every earlier bucket has started
and the one before it has finished, its asynchronous all-reduce (a sum) starts while
backward continues with earlier layers. Starting buckets strictly in order keeps every
rank's sequence of collectives the same whatever order hooks fire in. One reduction in
flight at a time (``_ONE_IN_FLIGHT``), as NCCL runs a process group's collectives one
after another on its stream: MPICH progresses several outstanding large ``Iallreduce`` calls far
slower than the same calls one after another (seven of 1 MiB between two local ranks:
2.2-2.3 ms all in flight against 0.85-0.88 ms one at a time), and a ready bucket queued
behind a running one starts as soon as a poll sees that one finish. By default every hook
tests the running reduction once, which drives MPI's progress engine during backward
(``_POLL_IN_HOOKS``; the figures behind both choices are in ARCHITECTURE.md's distributed
section). An end-of-backward callback (``queue_callback``) starts the buckets still queued,
each once the one before has finished, waits for the reductions and writes the averaged
gradients of flat buckets back into ``.grad``, or, with ``gradient_as_bucket_view``, makes
``.grad`` a view of its slot, so that later backward passes that keep ``.grad``
(``zero_grad(set_to_none=False)``, ``no_sync``) accumulate straight into the buffer that is
reduced, with no copy at all. A large parameter's ``.grad`` is the buffer being reduced
even without that flag: a hook that runs later in the same backward sees it scaled and
perhaps partly reduced, as with PyTorch's ``gradient_as_bucket_view=True``; once backward
returns every ``.grad`` holds the average.

Parameters with no contribution: with ``find_unused_parameters`` they are ready at once and
contribute zeros; a mask all-reduced beside the buckets says which were used on some rank,
and those get the averaged gradient, the rest keep ``.grad`` untouched. Without it, as in
PyTorch, backward ends with an error naming them. Inside ``no_sync()`` the hooks do nothing
and gradients accumulate locally; the first synchronized backward averages the sum.
"""

from __future__ import annotations

import contextlib

import numpy as np

from ember._tensor import Tensor
from ember.nn.modules.module import Module

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024
_SOLO_BYTES = 256 * 1024  # a gradient this large is reduced in place, not copied
_POLL_IN_HOOKS = True
_ONE_IN_FLIGHT = True  # NOTE [ DDP buckets and overlap ]: one bucket all-reduce at a time


def _flatten_outputs(out, acc):
    if isinstance(out, Tensor):
        acc.append(out)
    elif isinstance(out, (list, tuple)):
        for o in out:
            _flatten_outputs(o, acc)
    elif isinstance(out, dict):
        for o in out.values():
            _flatten_outputs(o, acc)
    return acc


def _count_contributions(outputs, wanted):
    """How many graph edges reach each parameter in ``wanted`` (id -> index) from
    ``outputs`` (0: the parameter gets no gradient)."""
    from ember._graph import Node

    counts = [0] * len(wanted)
    seen = set()
    stack = []
    for t in outputs:
        e = t._grad_fn
        if e is None:
            continue
        n = e[0] if e.__class__ is tuple else e
        if id(n) not in seen:
            seen.add(id(n))
            stack.append(n)
    while stack:
        for e in stack.pop().next:
            c = e.__class__
            if c.__base__ is Node or c is tuple:
                n = e if c is not tuple else e[0]
                if id(n) not in seen:
                    seen.add(id(n))
                    stack.append(n)
            elif e is not None:
                i = wanted.get(id(e))
                if i is not None:
                    counts[i] += 1
    return counts


class _Bucket:
    """One all-reduce: a flat buffer of several gradients, or (``solo``) one gradient reduced
    in place on its own array (NOTE [ DDP buckets and overlap ])."""

    __slots__ = ("params", "index", "offsets", "views", "buf", "pending", "work", "tensor",
                 "solo", "numel", "dtype")

    def __init__(self, params, index, dtype, solo, xp=np):
        self.params = params
        self.index = index  # positions in DDP's parameter list
        self.dtype = np.dtype(dtype)
        self.solo = solo
        self.offsets = []
        off = 0
        for p in params:
            self.offsets.append(off)
            off += p._data.size
        self.numel = off
        self.pending = 0
        self.work = None
        if solo:
            # The array reduced is the gradient's own, chosen each iteration in _stage.
            self.buf = self.tensor = None
            self.views = None
        else:
            self.buf = xp.zeros(off, dtype)  # on the parameters' device (xp: its arrays)
            self.tensor = Tensor._wrap(self.buf)
            # One shaped view per parameter, made once: the slot its gradient is copied
            # into, and the array .grad wraps with gradient_as_bucket_view.
            self.views = [self.buf[o:o + p._data.size].reshape(p._data.shape)
                          for p, o in zip(params, self.offsets)]


class DistributedDataParallel(Module):
    """Data-parallel training: one model replica per rank, gradients averaged by all-reduce.

    Args:
        module: the model (on the CPU).
        device_ids, output_device: must be None for CPU modules (as in PyTorch).
        dim: PyTorch's scatter dimension (unused on the CPU: inputs are not split).
        broadcast_buffers: broadcast rank 0's buffers at the start of each training forward.
        init_sync: broadcast rank 0's parameters and buffers at construction.
        process_group: the group to average over (default: the default group).
        bucket_cap_mb: bucket size cap in MiB (default 25).
        find_unused_parameters: allow parameters that get no gradient in an iteration.
        check_reduction: deprecated in PyTorch; ignored there and here.
        gradient_as_bucket_view: make ``.grad`` views of the communication buckets (saves
            the copy back and memory; with ``zero_grad(set_to_none=False)`` backward then
            accumulates straight into the buckets).
        static_graph: PyTorch's hint that the graph is the same each iteration; accepted
            (ember's bookkeeping is recomputed each forward, which is correct either way).
        delay_all_reduce_named_params, param_to_hook_all_reduce, mixed_precision,
            device_mesh, skip_all_reduce_unused_params: not supported
            (NotImplementedError).

    Shape:
        - Input: whatever the wrapped module takes (each rank passes its own batch).
        - Output: the wrapped module's output.

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> model = DistributedDataParallel(nn.Linear(10, 1))
        >>> model(ember.randn(8, 10)).sum().backward()   # .grad averaged over the ranks
        >>> model.module.weight.grad.shape, list(model.state_dict())
        (torch.Size([1, 10]), ['module.weight', 'module.bias'])
        >>> dist.destroy_process_group()
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, init_sync=True, process_group=None,
                 bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,  # noqa: ARG002 - deprecated in PyTorch and without effect there too
                 gradient_as_bucket_view=False, static_graph=False,
                 delay_all_reduce_named_params=None, param_to_hook_all_reduce=None,
                 mixed_precision=None, device_mesh=None, skip_all_reduce_unused_params=False):
        super().__init__()
        import ember.distributed as dist

        for name, val in (("delay_all_reduce_named_params", delay_all_reduce_named_params),
                          ("param_to_hook_all_reduce", param_to_hook_all_reduce),
                          ("mixed_precision", mixed_precision), ("device_mesh", device_mesh)):
            if val is not None:
                raise NotImplementedError(f"DistributedDataParallel: {name} is not supported")
        if skip_all_reduce_unused_params:
            raise NotImplementedError("DistributedDataParallel: skip_all_reduce_unused_params "
                                      "is not supported")
        xp = np  # the parameters' array module: buckets live on their device
        first = next(iter(module.parameters()), None)
        if first is not None and first.device.type == "cuda":
            # CUDA parameters: buckets on the device, all-reduced by NCCL (NOTE [ DDP on
            # NCCL ] in ember/distributed/_nccl.py checks the arguments)
            from ember.distributed._nccl import ddp_setup

            xp, device_ids, output_device = ddp_setup(first.device, device_ids, output_device,
                                                      find_unused_parameters)
        elif device_ids or output_device is not None:
            raise ValueError("DistributedDataParallel device_ids and output_device arguments "
                             "only work with single-device/multiple-device GPU modules or CPU "
                             f"modules, but got device_ids {device_ids}, output_device "
                             f"{output_device}, and module parameters on the CPU.")
        if not dist.is_initialized():
            raise ValueError("Default process group has not been initialized, please make "
                             "sure to call init_process_group.")
        self.module = module
        self.device_ids = device_ids
        self.output_device = output_device
        self._xp = xp
        self.dim = dim
        self.process_group = process_group
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        cap = 25.0 if bucket_cap_mb is None else float(bucket_cap_mb)
        self.bucket_bytes_cap = int(cap * 1024 * 1024)
        self._world = dist.get_world_size(process_group)

        seen = set()
        params = []
        for p in module.parameters():
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                params.append(p)
        self._params = params
        self._param_index = {id(p): i for i, p in enumerate(params)}
        self._verify_shapes(dist)
        if init_sync and self._world > 1:
            self._sync_module_states(dist)
        self._buckets = self._build_buckets()
        self._bucket_of = [None] * len(params)
        self._slot_of = [0] * len(params)
        for b, bucket in enumerate(self._buckets):
            for k, i in enumerate(bucket.index):
                self._bucket_of[i] = b
                self._slot_of[i] = k
        self._poll_in_hooks = _POLL_IN_HOOKS
        self._one_in_flight = _ONE_IN_FLIGHT
        self._scale = 1.0 / self._world
        self._handles = [p.register_post_accumulate_grad_hook(self._make_hook(i))
                         for i, p in enumerate(params)]
        self._prepared = False
        self._queued = False
        self._expected = [0] * len(params)
        self._next_bucket = 0
        self._used = None
        self._used_work = None
        self._unused = []
        self._join = None
        self._divisor = self._world

    # ------------------------------------------------------------------ construction
    def _verify_shapes(self, dist):
        mine = [(tuple(p.shape), str(p.dtype)) for p in self._params]
        everyone = [None] * self._world
        dist.all_gather_object(everyone, mine, group=self.process_group)
        for r, other in enumerate(everyone):
            if other != mine:
                raise RuntimeError("DistributedDataParallel: parameters differ across ranks "
                                   f"(this rank has {len(mine)} parameters, rank {r} has "
                                   f"{len(other)}; first shapes {mine[:3]} vs {other[:3]})")

    def _group_src(self, dist):
        # Rank 0 of the group, given as a global rank as broadcast expects.
        return dist.get_global_rank(self.process_group, 0) if self.process_group else 0

    def _sync_module_states(self, dist):
        src = self._group_src(dist)
        for t in list(self.module.parameters()) + list(self.module.buffers()):
            dist.broadcast(t, src=src, group=self.process_group)

    def _build_buckets(self):
        # Walk the parameters in reverse registration order (roughly the order backward
        # produces their gradients). A gradient of at least ``solo`` bytes is a bucket of its
        # own, reduced in place; the others are packed into flat buckets that stay open
        # across solo ones (a bias between two large weights joins the next small
        # parameters instead of costing an all-reduce of its own). Buckets are then ordered
        # by when their last gradient should be ready, the order they are launched in.
        groups = []  # (position of the last member in the walk, indices, solo)
        current, cur_bytes, cur_dtype, last = [], 0, None, 0
        cap = min(_FIRST_BUCKET_BYTES, self.bucket_bytes_cap)
        solo = min(_SOLO_BYTES, self.bucket_bytes_cap)
        for pos, i in enumerate(reversed(range(len(self._params)))):
            p = self._params[i]
            nbytes = p._data.nbytes
            if nbytes >= solo:
                groups.append((pos, [i], True))
                continue
            if current and (p._data.dtype != cur_dtype or cur_bytes + nbytes > cap):
                groups.append((last, current, False))
                current, cur_bytes = [], 0
                cap = self.bucket_bytes_cap
            current.append(i)
            cur_bytes += nbytes
            cur_dtype = p._data.dtype
            last = pos
        if current:
            groups.append((last, current, False))
        groups.sort(key=lambda g: g[0])
        return [_Bucket([self._params[i] for i in idx], idx, self._params[idx[0]]._data.dtype,
                        solo, self._xp) for _, idx, solo in groups]

    # ------------------------------------------------------------------ forward
    @contextlib.contextmanager
    def no_sync(self):
        """Inside this context, backward accumulates gradients locally without averaging.

        Example:
            >>> with ddp.no_sync():
            ...     ddp(x1).sum().backward()
            >>> ddp(x2).sum().backward()     # averages the sum of both
        """
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def forward(self, *inputs, **kwargs):
        from ember.autograd import is_grad_enabled

        syncing = is_grad_enabled() and self.require_backward_grad_sync and self._world > 1
        if self._join is not None and self._world > 1:
            self._join_step(syncing)
        # As in PyTorch, buffers are synchronized before forwards that will be followed by a
        # synchronized backward (grad mode on, not inside no_sync).
        if syncing and self.broadcast_buffers and self.require_forward_param_sync:
            self._sync_buffers()
        out = self.module(*inputs, **kwargs)
        if syncing:
            self._prepare(out)
        else:
            self._prepared = False
        return out

    def _sync_buffers(self):
        # All buffers go in one broadcast, packed as bytes (PyTorch coalesces them too): a
        # BatchNorm network has three per layer, and each broadcast is a round trip.
        import ember.distributed as dist

        bufs = list(self.module.buffers())
        if not bufs:
            return
        src = self._group_src(dist)
        if len(bufs) == 1:
            dist.broadcast(bufs[0], src=src, group=self.process_group)
            return
        arrays = [b._data for b in bufs]
        sizes = [a.nbytes for a in arrays]
        root = dist.get_rank() == src
        if root:
            flat = np.concatenate([np.ascontiguousarray(a).reshape(-1).view(np.uint8)
                                   for a in arrays])
        else:
            flat = self._xp.empty(sum(sizes), np.uint8)
        dist.broadcast(Tensor._wrap(flat), src=src, group=self.process_group)
        if not root:
            off = 0
            for b, a, n in zip(bufs, arrays, sizes):
                a[...] = flat[off:off + n].view(a.dtype).reshape(a.shape)
                b._bump()
                off += n

    # ------------------------------------------------------------------ join
    def join(self, divide_by_initial_world_size=True, enable=True,
             throw_on_early_termination=False):
        """Context manager for uneven inputs: ranks that run out of batches keep answering
        the others' collectives (with zero gradients) until every rank is done.

        NOTE [ DDP join ]: inside the context every forward first all-reduces (1, syncing)
        over the group, so each rank learns how many are still active and whether this
        iteration reduces gradients. A rank leaving the loop enters ``__exit__``, which
        shadows iterations with (0, 0): it mirrors the buffer broadcast and each bucket's
        all-reduce (zeros), in the order active ranks issue them, until the sum of active
        flags is 0. Gradients are divided by the initial world size (PyTorch's default) or,
        with ``divide_by_initial_world_size=False``, by the number of active ranks. At the
        end, the last rank to join broadcasts its parameters and buffers, since ranks that
        joined early skipped the later optimizer steps.

        Args:
            divide_by_initial_world_size: see above.
            enable: False makes the context do nothing.
            throw_on_early_termination: raise on every rank as soon as one runs out.

        Example:
            >>> with ddp.join():
            ...     for x, y in my_uneven_loader:
            ...         loss_fn(ddp(x), y).backward(); opt.step(); opt.zero_grad()
        """
        return _Join(self, divide_by_initial_world_size, enable, throw_on_early_termination)

    def _join_flags(self, active, syncing):
        import ember.distributed as dist

        flags = Tensor._wrap(np.array([active, syncing], np.int64))
        dist.all_reduce(flags, group=self.process_group)
        return int(flags._data[0]), int(flags._data[1])

    def _join_step(self, syncing):
        active, _ = self._join_flags(1, int(syncing))
        cfg = self._join
        if active < self._world and cfg.throw:
            raise RuntimeError("Detected at least one rank that exhausted inputs. Throwing "
                               "across all ranks.")
        self._divisor = self._world if cfg.divide_by_initial else active
        cfg.iters += 1

    def _join_final_sync(self, iters):
        """Copy the last joiner's parameters and buffers to everyone (ranks that joined early
        skipped the later optimizer steps)."""
        import ember.distributed as dist

        me = dist.get_rank(self.process_group)
        key = Tensor._wrap(np.array([iters * self._world + me], np.int64))
        dist.all_reduce(key, op=dist.ReduceOp.MAX, group=self.process_group)
        src = int(key._data[0]) % self._world
        if self.process_group is not None:
            src = dist.get_global_rank(self.process_group, src)
        for t in list(self.module.parameters()) + list(self.module.buffers()):
            dist.broadcast(t, src=src, group=self.process_group)

    def _join_shadow(self):
        import ember.distributed as dist

        while True:
            active, syncing = self._join_flags(0, 0)
            if active == 0:
                return
            if self._join.throw:
                raise RuntimeError("Detected at least one rank that exhausted inputs. "
                                   "Throwing across all ranks.")
            if not syncing:
                continue
            if self.broadcast_buffers and self.require_forward_param_sync:
                self._sync_buffers()
            for b in self._buckets:
                # Fresh zeros: a bucket's buffer may hold this rank's .grad (bucket views).
                dist.all_reduce(Tensor._wrap(np.zeros(b.numel, b.dtype)),
                                group=self.process_group)
            if self.find_unused_parameters:
                dist.all_reduce(Tensor._wrap(np.zeros(len(self._params), np.int32)),
                                op=dist.ReduceOp.MAX, group=self.process_group)

    def _prepare(self, out):
        # The engine accumulates each leaf once per backward (NOTE [ One accumulation per
        # leaf ] in engine.py), so a parameter's hook fires at most once.
        if self.find_unused_parameters:
            counts = _count_contributions(_flatten_outputs(out, []), self._param_index)
            self._expected = [1 if c else 0 for c in counts]
        else:
            # As in PyTorch, every parameter is expected (an unused one keeps its bucket
            # from ever starting, and backward ends with PyTorch's error naming it), so the
            # graph need not be walked.
            counts = None
            self._expected = [1] * len(self._params)
        for b in self._buckets:
            b.pending = (sum(1 for i in b.index if counts[i] > 0) if counts is not None
                         else len(b.index))
            b.work = None
        self._next_bucket = 0
        self._queued = False
        self._prepared = True
        self._scale = 1.0 / self._divisor
        if self.find_unused_parameters:
            self._used = np.array([c > 0 for c in counts], np.int32)
            self._used_work = None
        unused = [] if counts is None else [i for i, c in enumerate(counts) if c == 0]
        if unused:
            for i in unused:  # ready at once; they contribute .grad as it is, or zeros
                self._stage(i, used=False)
            self._launch_ready()
        self._unused = unused

    # ------------------------------------------------------------------ backward
    def _make_hook(self, i):
        def hook(param):  # noqa: ARG001 - post-accumulate hook protocol (the hook receives the parameter)
            self._on_grad(i)
        return hook

    def _on_grad(self, i):
        if not self._prepared:
            return
        if not self._queued:
            from ember.autograd.engine import queue_callback

            queue_callback(self._finalize)
            self._queued = True
        left = self._expected[i] - 1
        if left < 0:
            self._prepared = False
            raise RuntimeError(
                "Expected to mark a variable ready only once. This error is caused by a "
                f"parameter (index {i}) receiving more gradients than DistributedDataParallel "
                "counted in its forward: it was used outside the wrapped module's forward, or "
                "backward ran twice in one iteration.")
        self._expected[i] = left
        if left == 0:
            self._stage(i)
            b = self._buckets[self._bucket_of[i]]
            b.pending -= 1
            if b.pending == 0:
                self._launch_ready()
        if self._poll_in_hooks:
            # One test of the oldest unfinished reduction drives MPI's progress engine for
            # all of them while backward runs; when it has finished, the next ready bucket
            # may start (one in flight at a time).
            for b in self._buckets[:self._next_bucket]:
                if b.work is not None and not b.work._done:
                    if b.work.is_completed() and self._one_in_flight:
                        self._launch_ready()
                    break

    def _stage(self, i, used=True):
        """Put parameter ``i``'s gradient, times 1/world, where its bucket's all-reduce reads
        it: right after accumulation, while the gradient is still in cache. Scaling here
        (as PyTorch does) saves a division pass after the reduction."""
        b = self._buckets[self._bucket_of[i]]
        p = self._params[i]
        g = p._grad
        if g is not None and g._data.__class__ is not self._xp.ndarray:
            self._prepared = False
            raise NotImplementedError("DistributedDataParallel: sparse gradients (parameter "
                                      f"index {i}, shape {tuple(p.shape)}) are not supported")
        scale = self._scale
        if b.solo:
            a = None if g is None else g._data
            if (used and a is not None and not g._requires_grad and a.flags.c_contiguous
                    and getattr(a.flags, "writeable", True) and a.dtype == b.dtype):
                # Reduced in place on the gradient's own array: no copy in or out.
                np.multiply(a, scale, out=a)
            elif a is None:
                a = self._xp.zeros(p._data.shape, b.dtype)
            else:
                a = np.multiply(a, scale).astype(b.dtype, copy=False)
                if not a.flags.c_contiguous:
                    a = np.ascontiguousarray(a)
            b.buf = a
            b.tensor = Tensor._wrap(a)
            return
        slot = b.views[self._slot_of[i]]
        if g is None:
            slot[...] = 0
        else:
            np.multiply(g._data, scale, out=slot, casting="unsafe")

    def _launch_ready(self):
        import ember.distributed as dist

        buckets = self._buckets
        while self._next_bucket < len(buckets):
            b = buckets[self._next_bucket]
            if b.pending > 0:
                return
            if self._one_in_flight and self._next_bucket:
                prev = buckets[self._next_bucket - 1].work
                if not prev._done and not prev.is_completed():
                    return  # started once it finishes: by a later hook's poll or _finalize
            b.work = dist.all_reduce(b.tensor, group=self.process_group, async_op=True)
            self._next_bucket += 1
        # The used-mask goes last, so every rank issues its collectives in the same order.
        if self.find_unused_parameters and self._used_work is None:
            self._used_work = dist.all_reduce(Tensor._wrap(self._used), op=dist.ReduceOp.MAX,
                                              group=self.process_group, async_op=True)

    def _unfinished_message(self):
        missing = [i for i, c in enumerate(self._expected) if c > 0 or i in self._unused]
        return ("Expected to have finished reduction in the prior iteration before starting "
                "a new one. This error indicates that your module has parameters that were "
                "not used in producing loss. You can enable unused parameter detection by "
                "passing the keyword argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`. Parameter indices which did not "
                f"receive grad for rank {self._rank()}: {' '.join(map(str, missing))}")

    def _rank(self):
        import ember.distributed as dist

        return dist.get_rank(self.process_group)

    def _finalize(self):
        if not self._prepared:
            return
        buckets = self._buckets
        if any(b.pending > 0 for b in buckets[self._next_bucket:]):
            self._prepared = False
            raise RuntimeError(self._unfinished_message())
        self._prepared = False
        while self._next_bucket < len(buckets):  # ready buckets queued behind one in flight
            if self._next_bucket:
                buckets[self._next_bucket - 1].work.wait()
            self._launch_ready()
        for b in buckets:
            b.work.wait()
        used = None
        if self.find_unused_parameters:
            self._used_work.wait()
            used = self._used
        view = self.gradient_as_bucket_view
        for b in self._buckets:
            if b.solo:
                if used is not None and not used[b.index[0]]:
                    continue  # unused on every rank: .grad stays as it was
                p = b.params[0]
                g = p._grad
                if g is None:
                    p._grad = Tensor._wrap(b.buf)  # a fresh array nothing else holds
                else:
                    if g._data is not b.buf:
                        g._data[...] = b.buf
                    g._bump()
                b.buf = b.tensor = None  # don't keep last iteration's gradient alive
                continue
            for p, i, slot in zip(b.params, b.index, b.views):
                if used is not None and not used[i]:
                    continue
                g = p._grad
                if view:
                    if g is not None and g._data is slot:
                        g._bump()
                    else:
                        p._grad = Tensor._wrap(slot)
                elif g is None:
                    p._grad = Tensor._wrap(slot.copy())
                else:
                    g._data[...] = slot
                    g._bump()

    # ------------------------------------------------------------------ misc
    def _get_ddp_logging_data(self):
        return {"world_size": self._world, "bucket_cap_bytes": self.bucket_bytes_cap,
                "num_buckets": len(self._buckets),
                "find_unused_parameters": self.find_unused_parameters}


class _Join:
    """What ``DistributedDataParallel.join`` returns (NOTE [ DDP join ])."""

    def __init__(self, ddp, divide_by_initial, enable, throw):
        self.ddp = ddp
        self.divide_by_initial = divide_by_initial
        self.enable = enable
        self.throw = throw
        self.iters = 0

    def __enter__(self):
        self.iters = 0
        if self.enable:
            self.ddp._join = self
        return self

    def __exit__(self, exc_type, exc, tb):
        ddp = self.ddp
        try:
            if self.enable and exc_type is None and ddp._world > 1:
                ddp._join_shadow()
                ddp._join_final_sync(self.iters)
        finally:
            ddp._join = None
            ddp._divisor = ddp._world
        return False
