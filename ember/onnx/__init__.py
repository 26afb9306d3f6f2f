"""``ember.onnx``: export traced models to ONNX (PyTorch's ``torch.onnx``).

``ember.onnx.export(model, args, "model.onnx")`` traces ``model`` on ``args`` with
``ember.jit``'s tracer and writes an ONNX graph built from the trace (NOTE [ ONNX export
from the trace ] in ``_export.py``), with one converter per op record (``_symbolic.py``).
``dynamic_axes`` are honoured by tracing again at other sizes (NOTE [ Dynamic axes from
several traces ]). ``ember.onnx.verify`` exports to memory, runs onnxruntime and reports the
largest difference from eager per output.

Importing this module needs nothing beyond ember; exporting needs the ``onnx`` package
(``pip install ember[onnx]``), verifying also ``onnxruntime``.

Example::

    >>> import ember
    >>> model = ember.nn.Linear(4, 2).eval()
    >>> ember.onnx.export(model, (ember.randn(3, 4),), "linear.onnx",
    ...                   input_names=["x"], dynamic_axes={"x": {0: "batch"}})
"""

from __future__ import annotations

import contextlib
import enum

from ember.onnx import errors
from ember.onnx.errors import OnnxExporterError, SymbolicValueError, UnsupportedOperatorError

__all__ = ["export", "verify", "TrainingMode", "OperatorExportTypes", "is_in_onnx_export",
           "select_model_mode_for_export", "register_custom_op_symbolic",
           "unregister_custom_op_symbolic", "OnnxExporterError", "UnsupportedOperatorError",
           "SymbolicValueError", "producer_name", "producer_version", "errors",
           "DEFAULT_OPSET", "MIN_OPSET", "MAX_OPSET", "VerificationResult"]

producer_name = "ember"
producer_version = "0"

DEFAULT_OPSET = 17
MIN_OPSET = 13
MAX_OPSET = 20


class TrainingMode(enum.IntEnum):
    """The mode a model is exported in (PyTorch's ``torch.onnx.TrainingMode``): ``EVAL``
    (default: dropout off, batch norm uses running statistics), ``PRESERVE`` (the model's
    current mode) or ``TRAINING``.

    Args:
        value: the member's integer value.

    Example:
        >>> import io
        >>> buf = io.BytesIO()
        >>> ember.onnx.export(nn.Linear(4, 2), (ember.ones(1, 4),), buf,
        ...                   training=ember.onnx.TrainingMode.EVAL)
        >>> len(buf.getvalue()) > 0
        True
    """

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


class OperatorExportTypes(enum.IntEnum):
    """PyTorch's ``torch.onnx.OperatorExportTypes``: how ops without a standard ONNX form are
    exported. ember exports standard ONNX only: ``export`` refuses any other member with
    NotImplementedError.

    Args:
        value: the member's integer value.

    Example:
        >>> import io
        >>> try:
        ...     ember.onnx.export(nn.Linear(4, 2), (ember.ones(1, 4),), io.BytesIO(),
        ...                       operator_export_type=ember.onnx.OperatorExportTypes.ONNX_ATEN)
        ... except NotImplementedError as e:
        ...     print(e)
        ember.onnx.export: operator_export_type=ONNX_ATEN is not supported (only ONNX)
    """

    ONNX = 0
    ONNX_ATEN = 1
    ONNX_ATEN_FALLBACK = 2
    ONNX_FALLTHROUGH = 3


def is_in_onnx_export():
    """True while ``ember.onnx.export`` traces a model.

    Returns:
        A bool: whether an ONNX export is tracing now.

    Example:
        >>> ember.onnx.is_in_onnx_export()
        False
    """
    from ember.onnx._export import _IN_EXPORT

    return _IN_EXPORT[0] > 0


@contextlib.contextmanager
def select_model_mode_for_export(model, mode):
    """Put ``model`` in the mode ``mode`` (a TrainingMode) for the block, then restore it.

    Args:
        model: the module.
        mode: a ``TrainingMode``.

    Returns:
        A context manager that sets the mode and restores it.

    Example::

        >>> with ember.onnx.select_model_mode_for_export(model, TrainingMode.EVAL):
        ...     pass
    """
    if not isinstance(mode, TrainingMode):
        raise TypeError(f"select_model_mode_for_export: mode must be a TrainingMode, got "
                        f"{type(mode).__name__}")
    train = getattr(model, "train", None)
    before = [(m, m.training) for m in model.modules()] if hasattr(model, "modules") else []
    if train is not None and mode != TrainingMode.PRESERVE:
        model.train(mode == TrainingMode.TRAINING)
    try:
        yield
    finally:
        for m, t in before:
            m.training = t


def register_custom_op_symbolic(symbolic_name, symbolic_fn, opset_version):
    """PyTorch registers TorchScript symbolic functions here; ember's converters work on
    op records (``ember.onnx._symbolic.register``), so this is refused.

    Args:
        symbolic_name: the op, as ``'namespace::name'``.
        symbolic_fn: a function building the ONNX nodes for it.
        opset_version: the opset the function is valid from.

    Returns:
        None; ember refuses with NotImplementedError (it exports op records, not TorchScript
        symbols).

    Example:
        >>> try:
        ...     ember.onnx.register_custom_op_symbolic('mylib::f', lambda g, x: x, 17)
        ... except NotImplementedError:
        ...     print('refused')
        ...
        refused
    """
    raise NotImplementedError("ember.onnx.register_custom_op_symbolic: ember converts op "
                              "records, not TorchScript symbols; see ember.onnx._symbolic")


def unregister_custom_op_symbolic(symbolic_name, opset_version):
    """See ``register_custom_op_symbolic``."""
    raise NotImplementedError("ember.onnx.unregister_custom_op_symbolic: not available")


def _refuse(name, value, default):
    if value is not default and value != default:
        raise NotImplementedError(f"ember.onnx.export: {name}={value!r} is not supported "
                                  "(ember exports from its tracer, PyTorch's TorchScript-"
                                  "exporter path)")


def _axes_of(dynamic_axes, input_names, output_names, n_inputs, n_outputs):
    """dynamic_axes -> ({input position: {axis: name}}, {output position: {axis: name}})."""
    import warnings

    ins, outs = {}, {}
    for key, axes in (dynamic_axes or {}).items():
        if isinstance(axes, dict):
            named = {int(a): str(n) for a, n in axes.items()}
        elif isinstance(axes, (list, tuple)):
            named = {int(a): f"{key}_dynamic_axes_{i + 1}" for i, a in enumerate(axes)}
        else:
            raise TypeError(f"dynamic_axes[{key!r}] must be a dict or a list of axes, got "
                            f"{type(axes).__name__}")
        if key in input_names[:n_inputs]:
            ins[input_names.index(key)] = named
        elif key in output_names[:n_outputs]:
            outs[output_names.index(key)] = named
        else:
            warnings.warn(f"Provided key {key} for dynamic axes is not a valid input/output "
                          "name", UserWarning, stacklevel=3)
    return ins, outs


def _model_proto(model, args, kwargs=None, *, input_names=None, output_names=None,
                 opset_version=None, export_params=True, keep_initializers_as_inputs=False,
                 dynamic_axes=None, training=TrainingMode.EVAL, do_constant_folding=True,
                 optimize=True, verbose=None):
    from ember._tensor import Tensor
    from ember.jit import _input_names
    from ember.jit._tracer import flatten
    from ember.nn import Module
    from ember.onnx import _export as E

    E._onnx()
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f"ember.onnx.export: opset_version {opset} is not supported (ember "
                         f"exports opsets {MIN_OPSET} to {MAX_OPSET})")
    if isinstance(args, Tensor):
        args = (args,)
    elif not isinstance(args, tuple):
        args = tuple(args) if isinstance(args, list) else (args,)
    kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict) and not kwargs:
        # PyTorch's convention: a trailing dict holds the keyword arguments
        args, kwargs = args[:-1], dict(args[-1])
    if not isinstance(model, Module) and not callable(model):
        raise TypeError(f"ember.onnx.export: model must be an nn.Module or a function, got "
                        f"{type(model).__name__}")
    leaves, _ = flatten((args, kwargs))
    n_in = sum(isinstance(x, Tensor) for x in leaves)
    fn = model.forward if isinstance(model, Module) else model
    traced_names = _input_names(fn, args, kwargs)
    names = list(input_names or [])
    if len(names) > n_in:
        raise ValueError(f"ember.onnx.export: {len(names)} input_names for {n_in} tensor "
                         "inputs")
    names += traced_names[len(names):n_in]
    mode = TrainingMode(training)
    state = {}
    if isinstance(model, Module):
        state.update(model.named_parameters(remove_duplicate=False))
        state.update((k, b) for k, b in model.named_buffers(remove_duplicate=False)
                     if b is not None)
    buffers = [k for k, _ in model.named_buffers(remove_duplicate=False)] \
        if isinstance(model, Module) else []
    ctx = select_model_mode_for_export(model, mode) if isinstance(model, Module) else \
        contextlib.nullcontext()
    with ctx:
        before = E.module_state(model)
        out, graph = E._trace(model, args, kwargs, names)
        n_out = len(graph.outputs)
        outs_named = list(output_names or [])
        if len(outs_named) > n_out:
            raise ValueError(f"ember.onnx.export: {len(outs_named)} output_names for "
                             f"{n_out} outputs")
        outs_named += [f"output_{i}" for i in range(len(outs_named), n_out)]
        in_axes, out_axes = _axes_of(dynamic_axes, names, outs_named, n_in, n_out)
        # the extra traces for dynamic axes must not move running statistics again
        saved = {k: state[k].detach()._data.copy() for k in buffers if k in state}
        try:
            dyn = E.analyse_dynamic(model, args, kwargs, graph, in_axes, names, before)
        finally:
            for k, a in saved.items():
                state[k]._data[...] = a
    proto = E.build_model(graph, dyn, state, opset=opset, input_names=names,
                          output_names=outs_named, export_params=export_params,
                          keep_initializers_as_inputs=bool(keep_initializers_as_inputs),
                          do_constant_folding=do_constant_folding and mode != TrainingMode.TRAINING,
                          out_axes=out_axes, in_axes=in_axes, keep_dead=not optimize)
    if verbose:
        import onnx

        printer = getattr(onnx, "printer", None)
        print(printer.to_text(proto.graph) if printer is not None else
              onnx.helper.printable_graph(proto.graph))
    return proto, out


def export(model, args=(), f=None, *, kwargs=None, verbose=None, input_names=None,
           output_names=None, opset_version=None, dynamo=False, external_data=True,
           dynamic_shapes=None, custom_translation_table=None, report=False, optimize=True,
           verify=False, profile=False, dump_exported_program=False, artifacts_dir=".",
           export_params=True, keep_initializers_as_inputs=False, dynamic_axes=None,
           training=TrainingMode.EVAL, operator_export_type=OperatorExportTypes.ONNX,
           do_constant_folding=True, custom_opsets=None, export_modules_as_functions=False,
           autograd_inlining=True):
    """Export ``model`` to ONNX by tracing it on ``args`` (PyTorch's ``torch.onnx.export``).

    Args:
        model: an ``nn.Module`` (or a function of tensors).
        args: the example inputs: a tensor or a tuple (a trailing dict gives keyword
            arguments, as in PyTorch).
        f: a path or a binary file object to write the model to; None returns the
            ``onnx.ModelProto``.
        kwargs: keyword arguments of the model call.
        verbose: print the exported graph.
        input_names / output_names: names of the graph's inputs and outputs (in the order
            of the tensors in ``args`` and in the returned structure).
        opset_version: 13 to 20 (default 17).
        dynamo: ember exports from its tracer (PyTorch's ``dynamo=False`` path);
            ``dynamo=True`` is refused.
        external_data: save weights beside the file when the model is over 2 GB.
        optimize: remove dead nodes (False keeps every traced node).
        verify: after exporting, run onnxruntime on ``args`` and raise when an output
            differs from eager by more than float32 tolerance.
        export_params: store parameters and buffers as initializers (False: graph inputs).
        keep_initializers_as_inputs: also list the initializers as graph inputs.
        dynamic_axes: ``{name: {axis: "dim_name"}}`` or ``{name: [axes]}`` for inputs and
            outputs whose sizes vary (NOTE [ Dynamic axes from several traces ]).
        training: TrainingMode.EVAL (default), PRESERVE or TRAINING.
        operator_export_type: only OperatorExportTypes.ONNX.
        do_constant_folding: fold computations on parameters and constants.
        dynamic_shapes, custom_translation_table, report, profile, dump_exported_program,
        artifacts_dir, custom_opsets, export_modules_as_functions, autograd_inlining: the
            torch.export-path and TorchScript options; only their defaults are accepted.

    Returns:
        None when ``f`` is given (PyTorch's TorchScript path), else the ModelProto.

    Example::

        >>> model = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU()).eval()
        >>> ember.onnx.export(model, (ember.randn(2, 4),), "mlp.onnx", input_names=["x"],
        ...                   output_names=["y"], dynamic_axes={"x": {0: "batch"}})
    """
    if dynamo:
        raise NotImplementedError("ember.onnx.export: dynamo=True (the torch.export-based "
                                  "exporter) is not available; ember exports from its "
                                  "tracer (dynamo=False)")
    _refuse("dynamic_shapes", dynamic_shapes, None)
    _refuse("custom_translation_table", custom_translation_table, None)
    _refuse("report", report, False)
    _refuse("profile", profile, False)
    _refuse("dump_exported_program", dump_exported_program, False)
    _refuse("custom_opsets", custom_opsets or None, None)
    _refuse("export_modules_as_functions", export_modules_as_functions, False)
    _refuse("autograd_inlining", autograd_inlining, True)
    del artifacts_dir  # only used by the torch.export path's reports, which are refused
    if OperatorExportTypes(operator_export_type) != OperatorExportTypes.ONNX:
        raise NotImplementedError(f"ember.onnx.export: operator_export_type="
                                  f"{OperatorExportTypes(operator_export_type).name} is not "
                                  "supported (only ONNX)")
    proto, _ = _model_proto(model, args, kwargs, input_names=input_names,
                            output_names=output_names, opset_version=opset_version,
                            export_params=export_params,
                            keep_initializers_as_inputs=keep_initializers_as_inputs,
                            dynamic_axes=dynamic_axes, training=training,
                            do_constant_folding=do_constant_folding, optimize=optimize,
                            verbose=verbose)
    if verify:
        res = _run_and_compare(proto, model, args, kwargs, export_params, training=training)
        res.check()
    if f is None:
        return proto
    from ember.onnx._export import save_model

    save_model(proto, f, external_data)
    return None


class VerificationResult:
    """What ``verify`` found: the largest absolute difference between onnxruntime's and
    ember's outputs, per output name (``max_abs_diff``), the tolerances used, and ``ok``
    (every output within them). ``check()`` raises AssertionError when not ``ok``.

    Args:
        names: the outputs' names.
        diffs: the largest absolute difference of each output.
        rtol: the relative tolerance used.
        atol: the absolute tolerance used.
        ok: whether every output is within the tolerances.
        model: the exported ``onnx.ModelProto``.

    Example:
        >>> r = ember.onnx.verify(nn.Linear(4, 2), (ember.randn(3, 4),))
        >>> r.ok, list(r.max_abs_diff)
        (True, ['output_0'])
        >>> r.check() is r
        True
    """

    def __init__(self, names, diffs, rtol, atol, ok, model):
        self.names, self.diffs, self.rtol, self.atol = names, diffs, rtol, atol
        self.ok = ok
        self.model = model

    @property
    def max_abs_diff(self):
        return dict(zip(self.names, self.diffs))

    def check(self):
        if not self.ok:
            raise AssertionError(f"ONNX export: onnxruntime's outputs differ from eager: "
                                 f"{self}")
        return self

    def __repr__(self):
        parts = ", ".join(f"{n}: {d:.3g}" for n, d in zip(self.names, self.diffs))
        return (f"VerificationResult({'ok' if self.ok else 'MISMATCH'}; largest absolute "
                f"difference per output: {parts}; rtol={self.rtol}, atol={self.atol})")


def _run_and_compare(proto, model, args, kwargs, export_params, rtol=1e-4, atol=1e-5,  # noqa: ARG001 - callers pass it; parameter inputs are read from the session instead
                     eager=None, training=TrainingMode.EVAL):
    import numpy as np

    try:
        import onnxruntime as ort
    except ImportError:
        raise ImportError("ember.onnx.verify needs onnxruntime: pip install ember[onnx]") \
            from None
    import ember
    from ember._tensor import Tensor
    from ember.jit._tracer import flatten
    from ember.nn import Module

    if isinstance(args, Tensor):
        args = (args,)
    args = tuple(args)
    kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict) and not kwargs:
        args, kwargs = args[:-1], dict(args[-1])
    if eager is None:
        sel = select_model_mode_for_export(model, TrainingMode(training)) \
            if isinstance(model, Module) else contextlib.nullcontext()
        with sel, ember.no_grad():
            eager = model(*args, **kwargs)
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    leaves, _ = flatten((args, kwargs))
    tensors = [x for x in leaves if isinstance(x, Tensor)]
    feed = {}
    ins = sess.get_inputs()
    for meta, t in zip(ins, tensors):
        feed[meta.name] = t.detach().numpy()
    if len(ins) > len(tensors):  # export_params=False: parameters are inputs
        state = dict(model.state_dict()) if isinstance(model, Module) else {}
        for meta in ins[len(tensors):]:
            feed[meta.name] = state[meta.name].detach().numpy()
    got = sess.run(None, feed)
    want, _ = flatten(eager)
    want = [w for w in want if isinstance(w, Tensor)]
    names = [o.name for o in sess.get_outputs()]
    diffs, ok = [], True
    for g, w in zip(got, want):
        w = w.detach().numpy()
        if g.shape != w.shape:
            diffs.append(float("inf"))
            ok = False
            continue
        if w.dtype.kind in "fc":
            d = float(np.max(np.abs(g.astype(np.float64) - w.astype(np.float64)))) \
                if w.size else 0.0
            ok = ok and bool(np.allclose(g, w, rtol=rtol, atol=atol, equal_nan=True))
        else:
            d = float(np.max(np.abs(g.astype(np.float64) - w.astype(np.float64)))) \
                if w.size else 0.0
            ok = ok and d == 0
        diffs.append(d)
    return VerificationResult(names, diffs, rtol, atol, ok, proto)


def verify(model, args=(), kwargs=None, *, rtol=1e-4, atol=1e-5, **export_kwargs):
    """Export ``model`` to memory, run it in onnxruntime on ``args`` and compare with eager.

    Args:
        model, args, kwargs: as for ``export``.
        rtol, atol: the tolerances ``ok`` is judged by (float32 defaults).
        **export_kwargs: any keyword argument of ``export`` (input_names, dynamic_axes,
            opset_version, ...).

    Returns:
        a ``VerificationResult``: ``max_abs_diff`` per output name, ``ok``, ``model`` (the
        ModelProto); ``.check()`` raises AssertionError when an output is out of tolerance.

    Example::

        >>> r = ember.onnx.verify(model, (ember.randn(2, 4),))
        >>> r.ok, r.max_abs_diff["output_0"] < 1e-5
        (True, True)
    """
    export_kwargs.pop("f", None)
    export_kwargs.pop("verify", None)
    proto = export(model, args, None, kwargs=kwargs, **export_kwargs)
    return _run_and_compare(proto, model, args, kwargs,
                            export_kwargs.get("export_params", True), rtol=rtol, atol=atol,
                            training=export_kwargs.get("training", TrainingMode.EVAL))
