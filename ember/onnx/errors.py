"""Exceptions of ``ember.onnx`` (PyTorch's ``torch.onnx.errors`` names)."""

from __future__ import annotations

__all__ = ["OnnxExporterError", "UnsupportedOperatorError", "SymbolicValueError"]


class OnnxExporterError(RuntimeError):
    """Errors raised by the ONNX exporter (PyTorch's ``torch.onnx.OnnxExporterError``)."""


class UnsupportedOperatorError(OnnxExporterError):
    """An op record has no ONNX counterpart at the requested opset.

    Example::

        >>> UnsupportedOperatorError("digamma", 17, "no ONNX operator computes it")
        UnsupportedOperatorError("Exporting the operator 'digamma' to ONNX opset version 17 \
is not supported: no ONNX operator computes it")
    """

    def __init__(self, name, version, reason=None):
        msg = f"Exporting the operator '{name}' to ONNX opset version {version} is not supported"
        if reason:
            msg += f": {reason}"
        super().__init__(msg)
        self.name = name
        self.version = version


class SymbolicValueError(OnnxExporterError):
    """A value of the traced graph cannot be expressed in the exported graph (a size that
    depends on a dynamic axis in a way the exporter cannot compute, for instance)."""
