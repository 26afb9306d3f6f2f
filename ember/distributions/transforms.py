"""A minimal ``torch.distributions.transforms``: bijections with log-det-Jacobians, and the
``biject_to``/``transform_to`` registries for the common constraints."""

from __future__ import annotations

import math

from ember.distributions import constraints
from ember.distributions._special import softplus

__all__ = ["Transform", "ExpTransform", "AffineTransform", "SigmoidTransform",
           "TanhTransform", "SoftplusTransform", "ComposeTransform", "identity_transform",
           "biject_to", "transform_to"]


class Transform:
    """An invertible map ``y = T(x)`` with ``log_abs_det_jacobian(x, y)``."""

    bijective = False
    domain = constraints.real
    codomain = constraints.real
    sign = 1

    def __init__(self, cache_size: int = 0):
        self._cache_size = cache_size
        self._cached = None

    @property
    def event_dim(self):
        return self.domain.event_dim

    @property
    def inv(self):
        return _InverseTransform(self)

    def __call__(self, x):
        if self._cache_size:
            if self._cached is not None and self._cached[0] is x:
                return self._cached[1]
            y = self._call(x)
            self._cached = (x, y)
            return y
        return self._call(x)

    def _inv_call(self, y):
        if self._cache_size and self._cached is not None and self._cached[1] is y:
            return self._cached[0]
        return self._inverse(y)

    def _call(self, x):
        raise NotImplementedError

    def _inverse(self, y):
        raise NotImplementedError

    def log_abs_det_jacobian(self, x, y):
        raise NotImplementedError

    def forward_shape(self, shape):
        return shape

    def inverse_shape(self, shape):
        return shape

    def __repr__(self):
        return self.__class__.__name__ + "()"


class _InverseTransform(Transform):
    def __init__(self, transform):
        super().__init__()
        self._inv = transform
        self.bijective = transform.bijective
        self.domain, self.codomain = transform.codomain, transform.domain
        self.sign = transform.sign

    @property
    def inv(self):
        return self._inv

    def __call__(self, x):
        return self._inv._inv_call(x)

    def log_abs_det_jacobian(self, x, y):
        return -self._inv.log_abs_det_jacobian(y, x)


class _Identity(Transform):
    bijective = True

    def _call(self, x):
        return x

    def _inverse(self, y):
        return y

    def log_abs_det_jacobian(self, x, y):
        return x * 0


identity_transform = _Identity()


class ExpTransform(Transform):
    """y = exp(x)."""

    bijective = True
    codomain = constraints.positive

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class SigmoidTransform(Transform):
    """y = sigmoid(x)."""

    bijective = True
    codomain = constraints.unit_interval

    def _call(self, x):
        return x.sigmoid()

    def _inverse(self, y):
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x) - softplus(x)


class TanhTransform(Transform):
    """y = tanh(x)."""

    bijective = True
    codomain = constraints.interval(-1.0, 1.0)

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return 0.5 * ((1 + y).log() - (1 - y).log())

    def log_abs_det_jacobian(self, x, y):
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class SoftplusTransform(Transform):
    """y = log(1 + exp(x))."""

    bijective = True
    codomain = constraints.positive

    def _call(self, x):
        return softplus(x)

    def _inverse(self, y):
        return (-(-y).expm1()).log() + y

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x)


class AffineTransform(Transform):
    """y = loc + scale * x (``event_dim`` rightmost dims form one event)."""

    bijective = True

    def __init__(self, loc, scale, event_dim: int = 0, cache_size: int = 0):
        super().__init__(cache_size)
        self.loc, self.scale, self._event_dim = loc, scale, event_dim

    @property
    def event_dim(self):
        return self._event_dim

    @property
    def sign(self):
        s = self.scale
        return (1 if s > 0 else -1) if isinstance(s, (int, float)) else s.sign()

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        s = self.scale
        if isinstance(s, (int, float)):
            r = x * 0 + math.log(abs(s))
        else:
            r = s.abs().log().expand(x.shape) if s.shape != x.shape else s.abs().log()
        if self._event_dim:
            r = r.reshape(*r.shape[:r.ndim - self._event_dim], -1).sum(-1)
        return r


class ComposeTransform(Transform):
    """Apply ``parts`` in order."""

    def __init__(self, parts, cache_size: int = 0):
        super().__init__(cache_size)
        self.parts = list(parts)
        self.bijective = all(p.bijective for p in self.parts)

    def _call(self, x):
        for p in self.parts:
            x = p(x)
        return x

    @property
    def inv(self):
        return ComposeTransform([p.inv for p in reversed(self.parts)])

    def log_abs_det_jacobian(self, x, y):
        total = 0
        for p in self.parts:
            y = p(x)
            total = total + p.log_abs_det_jacobian(x, y)
            x = y
        return total


def _transform_for(constraint):
    if constraint is constraints.real or isinstance(constraint, constraints._Real):
        return identity_transform
    if constraint is constraints.positive or constraint is constraints.nonnegative:
        return ExpTransform()
    if isinstance(constraint, (constraints._GreaterThan, constraints._GreaterThanEq)):
        return ComposeTransform([ExpTransform(), AffineTransform(constraint.lower_bound, 1)])
    if isinstance(constraint, constraints._LessThan):
        return ComposeTransform([ExpTransform(), AffineTransform(constraint.upper_bound, -1)])
    if isinstance(constraint, constraints._Interval):
        lo, hi = constraint.lower_bound, constraint.upper_bound
        return ComposeTransform([SigmoidTransform(), AffineTransform(lo, hi - lo)])
    raise NotImplementedError(f"Cannot transform {type(constraint).__name__} constraints")


def biject_to(constraint):
    """A bijection from the reals onto ``constraint``'s region (real/positive/intervals)."""
    return _transform_for(constraint)


def transform_to(constraint):
    """A transform from the reals onto ``constraint``'s region."""
    return _transform_for(constraint)
