"""``nn.utils.parametrizations``: weight_norm, spectral_norm and orthogonal as parametrizations.

Each function registers a small Module through :func:`ember.nn.utils.parametrize.
register_parametrization` (NOTE [ Parametrized modules ] in ``parametrize.py``), so the
state_dict keys are PyTorch's:

- ``weight_norm``: ``parametrizations.weight.original0`` (g) and ``original1`` (v);
- ``spectral_norm``: ``parametrizations.weight.original`` and the power-iteration vectors
  ``parametrizations.weight.0._u`` / ``._v``;
- ``orthogonal``: ``parametrizations.weight.original`` and, with the default trivialization,
  ``parametrizations.weight.0.base``.
"""

from __future__ import annotations

from enum import Enum, auto

import numpy as np

import ember
from ember._tensor import Tensor
from ember.autograd.grad_mode import no_grad
from ember.nn import functional as F
from ember.nn.modules.module import Module
from ember.nn.utils import parametrize
from ember.nn.utils.weight_norm import _norm_except_dim, _weight_norm

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# --------------------------------------------------------------------------- weight_norm
class _WeightNorm(Module):
    """Parametrization ``(g, v) -> g * v / ||v||``; ``right_inverse`` splits a weight."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize ``module.<name>`` as ``g * v / ||v||`` (magnitude and direction).

    ``g`` and ``v`` are stored as ``parametrizations.<name>.original0`` and ``original1``.
    A state_dict saved with the older :func:`ember.nn.utils.weight_norm` (``<name>_g``,
    ``<name>_v``) still loads: its keys are renamed on the way in.

    Args:
        module: the module to reparametrize.
        name: the parameter's name.
        dim: the dimension kept by the norm (0: one norm per output row/channel); ``None``
            normalises the whole tensor.

    Returns:
        ``module``.

    Example::

        >>> m = weight_norm(nn.Linear(20, 40))
        >>> m.parametrizations.weight.original0.shape
        torch.Size([40, 1])
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _compat_hook(state_dict, prefix, local_metadata, strict, missing_keys,  # noqa: ARG001 - PyTorch's hook signature
                     unexpected_keys, error_msgs):  # noqa: ARG001 - PyTorch's hook signature
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(_compat_hook)
    return module


# --------------------------------------------------------------------------- spectral_norm
class _SpectralNorm(Module):
    """Parametrization ``W -> W / sigma(W)``, sigma estimated by power iteration.

    The iteration vectors are the buffers ``_u`` (length = rows of the weight as a matrix)
    and ``_v``; in training mode each forward refines them by ``n_power_iterations`` steps.
    """

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            u = weight_mat.new_empty(h).normal_(0, 1)
            v = weight_mat.new_empty(w).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            # start from a good estimate, so the first forward is already accurate
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        with no_grad():
            wh = weight_mat.mH
            for _ in range(n_power_iterations):
                F.normalize(ember.mv(weight_mat, self._v), dim=0, eps=self.eps, out=self._u)
                F.normalize(ember.mv(wh, self._u), dim=0, eps=self.eps, out=self._v)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        # clones: the buffers change in place at the next training forward, and backward
        # must see the vectors this forward used
        u = self._u.clone()
        v = self._v.clone()
        sigma = ember.vdot(u, ember.mv(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        # any weight is reachable: sigma is re-estimated from it by the power iteration
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Reparametrize ``module.<name>`` as ``W / sigma(W)``, its spectral norm divided out.

    ``sigma`` is estimated by power iteration; the vectors are the buffers
    ``parametrizations.<name>.0._u`` and ``._v``, refined ``n_power_iterations`` times per
    forward in training mode and frozen in eval mode.

    Args:
        module: the module to reparametrize.
        name: the parameter's name.
        n_power_iterations: power-iteration steps per training forward.
        eps: the floor of norms when normalising the vectors.
        dim: the dimension that becomes the matrix's rows (default 1 for ConvTranspose, else
            0).

    Returns:
        ``module``.

    Example::

        >>> m = spectral_norm(nn.Linear(20, 40))
        >>> m.parametrizations.weight.original.shape
        torch.Size([40, 20])
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        from ember.nn.modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d

        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


# --------------------------------------------------------------------------- orthogonal
class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


def _geqrf(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LAPACK geqrf (Householder QR in compact form), batched: NumPy's ``mode='raw'``
    returns the same reflectors, transposed."""
    h, tau = np.linalg.qr(a, mode="raw")
    return np.ascontiguousarray(np.swapaxes(h, -1, -2)), tau


def _is_orthogonal(q: np.ndarray) -> bool:
    n, k = q.shape[-2:]
    eps = 10.0 * n * np.finfo(q.dtype).eps
    return bool(np.allclose(np.swapaxes(q, -1, -2).conj() @ q, np.eye(k, dtype=q.dtype),
                            atol=eps))


def _make_orthogonal(a: np.ndarray) -> np.ndarray:
    """The Q of ``a = QR`` (``a`` tall) with ``diag(R)`` made non-negative."""
    x, tau = _geqrf(a)
    q = ember.linalg.householder_product(Tensor._wrap(x), Tensor._wrap(tau))._data
    d = np.diagonal(x, axis1=-2, axis2=-1)
    sgn = np.sign(d) if not np.iscomplexobj(d) else np.where(d == 0, 0, d / np.abs(d))
    return q * sgn[..., None, :]


class _Orthogonal(Module):
    """Parametrization of (batches of) matrices with orthonormal columns or rows.

    ``matrix_exp`` and ``cayley`` map a skew-symmetric matrix built from the lower triangle
    of the original onto the orthogonal group; ``householder`` multiplies the reflectors
    stored below the diagonal. With ``use_trivialization`` the result is multiplied by the
    buffer ``base``, which ``right_inverse`` sets to the assigned matrix, so that the
    original restarts at the identity of the map.
    """

    base: Tensor

    def __init__(self, weight: Tensor, orthogonal_map: _OrthMaps, *,
                 use_trivialization: bool = True) -> None:
        super().__init__()
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex "
                             "tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        # X is now tall (n >= k)
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:
                # embed in a square matrix: n*k - k(k-1)/2 free parameters
                X = ember.cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH  # skew-symmetric (skew-Hermitian)
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = ember.linalg.matrix_exp(A)
            else:
                # Cayley retraction (I + A/2)(I - A/2)^{-1}
                Id = ember.eye(n, dtype=A.dtype)
                Q = ember.linalg.solve(ember.add(Id, A, alpha=-0.5), ember.add(Id, A, alpha=0.5))
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = ember.linalg.householder_product(A, tau)
            # the diagonal of X holds +-1 (the sign of each reflection); .int() keeps it out
            # of the gradient, so training never moves it
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        if Q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {Q.shape}.")
        with no_grad():
            q = Q.detach()._data
            n, k = q.shape[-2:]
            transpose = n < k
            if transpose:
                q = np.swapaxes(q, -1, -2)
                n, k = k, n
            if not hasattr(self, "base"):
                if self.orthogonal_map != _OrthMaps.householder:
                    raise NotImplementedError(
                        "It is not possible to assign to the matrix exponential or the Cayley "
                        "parametrizations when use_trivialization=False.")
                # Householder without trivialization: store Q's own reflectors, signs of
                # diag(R) on the diagonal (tau == 0 means LAPACK skipped that reflection).
                a, tau = _geqrf(q)
                i = np.arange(k)
                d = np.sign(a[..., i, i])
                d[tau == 0.0] *= -1
                a[..., i, i] = d
                if transpose:
                    a = np.swapaxes(a, -1, -2)
                return Tensor._wrap(np.ascontiguousarray(a))
            if n == k:
                q = q.copy() if _is_orthogonal(q) else _make_orthogonal(q)
            else:
                # complete the k columns into an n x n orthogonal matrix
                extra = ember.randn(*(q.shape[:-2] + (n, n - k)), dtype=Q.dtype)._data
                q = _make_orthogonal(np.concatenate([q, extra], axis=-1))
            self.base = Tensor._wrap(np.ascontiguousarray(q))
            # -Id as the original: every map sends it to the identity (householder(-Id)
            # has diagonal -1 * -1 reflections), so forward returns base
            neg_id = np.zeros(Q.shape, dtype=q.dtype)
            i = np.arange(k)
            neg_id[..., i, i] = -1.0
            return Tensor._wrap(neg_id)


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Constrain ``module.<name>`` to (batches of) matrices with orthonormal rows or columns.

    Args:
        module: the module to reparametrize.
        name: the parameter's name (at least 2-d).
        orthogonal_map: ``"matrix_exp"``, ``"cayley"`` or ``"householder"``; default
            ``matrix_exp`` for square or complex matrices, else ``householder``.
        use_trivialization: keep a ``base`` buffer so that assigning to the weight is
            possible for every map (PyTorch's default).

    Returns:
        ``module``.

    Example::

        >>> m = orthogonal(nn.Linear(5, 5))
        >>> bool(ember.allclose(m.weight @ m.weight.T, ember.eye(5), atol=1e-5))
        True
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight.is_complex() else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None) if isinstance(orthogonal_map, str) \
        else None
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
