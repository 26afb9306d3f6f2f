"""Custom differentiable functions: ``class F(ember.autograd.Function)``."""

from __future__ import annotations

from ember._graph import FREED, GRAD, _raise_modified
from ember._ops.core import OpDef, _edge, wrap
from ember._tensor import Tensor, _new
from ember.autograd.anomaly_mode import STATE as _ANOMALY
from ember.autograd.anomaly_mode import note_trace as _note_trace


class FunctionCtx:
    """The ``ctx`` object passed to ``forward``/``backward`` of a custom Function.

    ``save_for_backward(*tensors)`` keeps tensors for backward (read back as
    ``saved_tensors``, checked against in-place changes); ``mark_dirty``,
    ``mark_non_differentiable`` and ``set_materialize_grads`` work as in PyTorch;
    ``needs_input_grad`` says which inputs need a gradient. Other attributes may be set freely.

    Example:
        >>> class Square(ember.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...     @staticmethod
        ...     def backward(ctx, g):
        ...         x, = ctx.saved_tensors
        ...         return 2 * x * g
        >>> x = ember.tensor([3.0], requires_grad=True)
        >>> Square.apply(x).backward()
        >>> x.grad
        tensor([6.])
    """

    def __init__(self):
        self._saved = ()
        self._versions = ()
        self._node = None
        self.needs_input_grad = ()
        self._dirty = ()
        self._non_diff = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument is of "
                                f"type {type(t).__name__}")
        self._saved = tensors
        self._versions = tuple(t._version if t is not None else 0 for t in tensors)

    @property
    def saved_tensors(self):
        # Once the node exists the saved tensors live on it (node.saved), so the engine's
        # release after a backward without retain_graph frees them, as for built-in ops.
        saved = self._saved if self._node is None else self._node.saved
        if saved is FREED:
            from ember._graph import _MSG_FREED

            raise RuntimeError(_MSG_FREED)
        for t, v in zip(saved, self._versions):
            if t is not None and t._version != v:
                _raise_modified(t, self._node, t._version, v)
        return saved

    saved_variables = saved_tensors

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_diff = tensors

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._op = OpDef(f"fn_{name}", None, _function_backward, multi=True,
                        node_name=f"{name}Backward")
        cls._op.fwd = cls
        from ember._ops.core import OPS

        OPS.pop(f"fn_{name}", None)  # user Functions are not part of the op table


def _function_backward(node, grads):
    ctx = node.params
    cls = node.op.fwd
    res = cls.backward(ctx, *grads)
    if not isinstance(res, tuple):
        res = (res,)
    pos = ctx._tensor_pos
    if len(res) < max(pos, default=-1) + 1:
        raise RuntimeError(f"function {cls.__name__}Backward returned an incorrect number of "
                           f"gradients (expected {len(ctx.needs_input_grad)}, got {len(res)})")
    return tuple(res[i] if i < len(res) else None for i in pos)


class Function(metaclass=_FunctionMeta):
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grads)``; call
    ``F.apply(*args)``. Alternatively define ``forward(*args)`` and
    ``setup_context(ctx, inputs, output)`` (PyTorch 2 style).

    Example:
        >>> class Square(ember.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...     @staticmethod
        ...     def backward(ctx, g):
        ...         (x,) = ctx.saved_tensors
        ...         return 2 * x * g
        ...
        >>> x = ember.tensor([3.0], requires_grad=True)
        >>> Square.apply(x).backward()
        >>> x.grad
        tensor([6.])
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """Computes the outputs; subclasses override it as a static method.

        Args:
            ctx: the context object, for ``save_for_backward`` and attributes (absent when
                ``setup_context`` is defined).
            *args: the inputs given to ``apply``.
            **kwargs: keyword inputs.

        Returns:
            A tensor or a tuple of tensors (and other values).

        Example:
            >>> class Square(ember.autograd.Function):
            ...     @staticmethod
            ...     def forward(ctx, x):
            ...         ctx.save_for_backward(x)
            ...         return x * x
            ...     @staticmethod
            ...     def backward(ctx, g):
            ...         (x,) = ctx.saved_tensors
            ...         return 2 * x * g
            ...
            >>> Square.apply(ember.tensor([4.0]))
            tensor([16.])
        """
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Computes the gradients of the inputs; subclasses override it as a static method.

        Args:
            ctx: the context saved by ``forward``/``setup_context``.
            *grad_outputs: one gradient per output of ``forward``.

        Returns:
            One gradient per input of ``forward`` (None for inputs that need none).

        Example:
            >>> class Square(ember.autograd.Function):
            ...     @staticmethod
            ...     def forward(ctx, x):
            ...         ctx.save_for_backward(x)
            ...         return x * x
            ...     @staticmethod
            ...     def backward(ctx, g):
            ...         (x,) = ctx.saved_tensors
            ...         return 2 * x * g
            ...
            >>> x = ember.tensor([1.5], requires_grad=True)
            >>> Square.apply(x).backward()
            >>> x.grad
            tensor([3.])
        """
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Saves what backward needs, separately from ``forward`` (the functorch-style split).

        Args:
            ctx: the context object.
            inputs: the tuple of ``forward``'s inputs.
            output: ``forward``'s output.

        Returns:
            None.

        Example:
            >>> class Cube(ember.autograd.Function):
            ...     @staticmethod
            ...     def forward(x):
            ...         return x ** 3
            ...     @staticmethod
            ...     def setup_context(ctx, inputs, output):
            ...         ctx.save_for_backward(inputs[0])
            ...     @staticmethod
            ...     def backward(ctx, g):
            ...         (x,) = ctx.saved_tensors
            ...         return 3 * x ** 2 * g
            ...
            >>> x = ember.tensor([2.0], requires_grad=True)
            >>> Cube.apply(x).backward()
            >>> x.grad
            tensor([12.])
        """
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        """Runs ``forward`` and records the call in the autograd graph.

        Args:
            *args: the inputs of ``forward`` (tensors and other values).
            **kwargs: keyword inputs of ``forward``.

        Returns:
            What ``forward`` returns; tensors in it carry the function as ``grad_fn``.

        Example:
            >>> class Square(ember.autograd.Function):
            ...     @staticmethod
            ...     def forward(ctx, x):
            ...         ctx.save_for_backward(x)
            ...         return x * x
            ...     @staticmethod
            ...     def backward(ctx, g):
            ...         (x,) = ctx.saved_tensors
            ...         return 2 * x * g
            ...
            >>> y = Square.apply(ember.tensor([2.0], requires_grad=True))
            >>> y, type(y.grad_fn).__name__
            (tensor([4.], grad_fn=<SquareBackward>), 'SquareBackward')
        """
        ctx = FunctionCtx()
        tensor_pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx._tensor_pos = tensor_pos
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        separate = cls.setup_context is not Function.setup_context
        prev = GRAD.enabled
        GRAD.enabled = False
        try:
            if separate:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        finally:
            GRAD.enabled = prev
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        inputs = [args[i] for i in tensor_pos]
        if not (GRAD.enabled and any(t._requires_grad for t in inputs)):
            return out
        node = _new(cls._op.node_cls)
        node.op = cls._op
        node.next = tuple(_edge(t) for t in inputs)
        node.params = ctx
        node.saved = ctx._saved
        ctx._saved = ()
        node.versions = None
        node.out = None
        node.pre_hooks = None
        node.hooks = None
        ctx._node = node
        if _ANOMALY[0]:  # anomaly mode: keep the forward traceback (custom Functions do not
            _note_trace(node)  # pass through dispatch, where built-in ops get theirs)
        new_outs = []
        shapes, dtypes = [], []
        dirty = {id(t) for t in ctx._dirty}
        non_diff = {id(t) for t in ctx._non_diff}
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                new_outs.append(o)
                shapes.append(())
                dtypes.append(None)
                continue
            if id(o) in dirty:
                o._bump()
                t = o
            elif any(o is a for a in inputs) or o._grad_fn is not None or o._requires_grad:
                t = o.detach() if not any(o is a for a in inputs) else wrap(o._data)
                if any(o is a for a in inputs):
                    t._base = o
            else:
                t = o
            shapes.append(o._data.shape)
            dtypes.append(o._data.dtype)
            if id(o) not in non_diff and o._data.dtype.kind in "fcV":
                t._grad_fn = (node, i)
                t._requires_grad = True
            new_outs.append(t)
        node.shape = shapes
        node.dtype = dtypes
        return new_outs[0] if single else tuple(new_outs)


def once_differentiable(fn):
    """Decorator for ``backward``: run it with grad mode off, so its result is never
    differentiated again (for backward formulas that are not written in differentiable ops).

    Args:
        fn: the ``backward`` static method.

    Returns:
        The wrapped function.

    Example:
        >>> class Square(ember.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...     @staticmethod
        ...     @once_differentiable
        ...     def backward(ctx, g):
        ...         x, = ctx.saved_tensors
        ...         return 2 * x * g
        >>> x = ember.tensor([3.0], requires_grad=True)
        >>> Square.apply(x).backward(create_graph=True)
        >>> x.grad, x.grad.requires_grad           # no graph for a second derivative
        (tensor([6.]), False)
    """
    import functools

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        prev = GRAD.enabled
        GRAD.enabled = False
        try:
            return fn(ctx, *args)
        finally:
            GRAD.enabled = prev

    return wrapper


class InplaceFunction(Function):
    """PyTorch's legacy base for Functions that can work in place: a ``Function`` with an
    ``inplace`` flag for its subclasses to read.

    Args:
        inplace: whether the subclass should modify its input.

    Example:
        >>> from ember.autograd.function import InplaceFunction
        >>> issubclass(InplaceFunction, ember.autograd.Function), InplaceFunction(True).inplace
        (True, True)
    """

    def __init__(self, inplace=False):
        self.inplace = inplace


class NestedIOFunction(Function):
    """PyTorch's legacy Function base for nested inputs and outputs, kept so that code
    subclassing it imports; it adds nothing to ``Function`` here.

    Example:
        >>> from ember.autograd.function import NestedIOFunction
        >>> issubclass(NestedIOFunction, ember.autograd.Function)
        True
    """
