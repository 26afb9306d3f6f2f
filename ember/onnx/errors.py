"""Exceptions of ``ember.onnx`` (PyTorch's ``torch.onnx.errors`` names)."""

from __future__ import annotations

__all__ = ["OnnxExporterError", "UnsupportedOperatorError", "SymbolicValueError"]


class OnnxExporterError(RuntimeError):
    """Base class of the errors ``ember.onnx.export`` raises (PyTorch's
    ``torch.onnx.OnnxExporterError``), a RuntimeError.

    Example:
        >>> from ember.onnx import OnnxExporterError, UnsupportedOperatorError
        >>> issubclass(UnsupportedOperatorError, OnnxExporterError)
        True
        >>> issubclass(OnnxExporterError, RuntimeError)
        True
    """


class UnsupportedOperatorError(OnnxExporterError):
    """An op of the traced model has no ONNX counterpart at the requested opset.

    Args:
        name: the op record's name.
        version: the opset version asked for.
        reason: why it cannot be exported (appended to the message).

    Example:
        >>> import io
        >>> class Digamma(nn.Module):
        ...     def forward(self, x):
        ...         return ember.digamma(x)
        >>> try:
        ...     ember.onnx.export(Digamma(), (ember.ones(2),), io.BytesIO())
        ... except UnsupportedOperatorError as e:
        ...     print(e.name, e.version)
        digamma 17
    """

    def __init__(self, name, version, reason=None):
        msg = f"Exporting the operator '{name}' to ONNX opset version {version} is not supported"
        if reason:
            msg += f": {reason}"
        super().__init__(msg)
        self.name = name
        self.version = version


class SymbolicValueError(OnnxExporterError):
    """A value of the traced graph cannot be expressed in the exported graph: for instance a
    size that depends on a dynamic axis in a way the exporter cannot compute, so the exported
    model would only be right for the traced shape.

    Example:
        >>> from ember.onnx import OnnxExporterError, SymbolicValueError
        >>> issubclass(SymbolicValueError, OnnxExporterError)
        True
    """
