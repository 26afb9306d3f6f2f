"""Constraints on distribution parameters and supports (``torch.distributions.constraints``).

A constraint's ``check(value)`` returns a bool tensor over the batch shape (event dims
reduced), which ``Distribution`` uses for ``validate_args``.
"""

from __future__ import annotations

import numpy as np

from ember._backends import xp_of
from ember._ops.core import wrap

__all__ = [
    "Constraint", "MixtureSameFamilyConstraint", "boolean", "cat", "corr_cholesky",
    "dependent", "dependent_property", "greater_than", "greater_than_eq", "half_open_interval",
    "independent", "integer_interval", "interval", "is_dependent", "less_than",
    "lower_cholesky", "lower_triangular", "multinomial", "nonnegative", "nonnegative_integer",
    "one_hot", "positive", "positive_definite", "positive_integer", "positive_semidefinite",
    "real", "real_vector", "simplex", "square", "stack", "symmetric", "unit_interval",
]


class Constraint:
    """Base class of the constraints: a region of valid values, tested by ``check(value)``.

    ``check`` returns a bool tensor over the value's batch shape (the rightmost
    ``event_dim`` dims are checked together); ``is_discrete`` says whether the region holds
    integers only. Distributions use them for ``arg_constraints``, ``support`` and
    ``validate_args``, and ``biject_to``/``transform_to`` map them to transforms.

    Example:
        >>> from ember.distributions import constraints
        >>> constraints.positive.check(ember.tensor([1.0, -1.0]))
        tensor([ True, False])
        >>> isinstance(constraints.simplex, constraints.Constraint), constraints.simplex.event_dim
        (True, 1)
    """

    is_discrete = False
    event_dim = 0

    def check(self, value):
        raise NotImplementedError

    def __repr__(self):
        return self.__class__.__name__[1:] + "()"


class _Dependent(Constraint):
    """A placeholder for a constraint that depends on other parameters (``Binomial``'s support
    depends on ``total_count``): argument validation skips it and ``check`` raises ValueError.
    Published as the instance ``constraints.dependent``; calling it makes a new placeholder.

    Args:
        is_discrete: the placeholder's ``is_discrete``, when known.
        event_dim: the placeholder's ``event_dim``, when known.

    Returns:
        (when called) a new placeholder with those attributes.

    Example:
        >>> from ember.distributions import constraints
        >>> c = constraints.dependent(is_discrete=True, event_dim=0)
        >>> constraints.is_dependent(c), c.is_discrete
        (True, True)
    """

    def __init__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        self._is_discrete = is_discrete
        self._event_dim = event_dim

    @property
    def is_discrete(self):
        if self._is_discrete is NotImplemented:
            raise NotImplementedError(".is_discrete cannot be determined statically")
        return self._is_discrete

    @property
    def event_dim(self):
        if self._event_dim is NotImplemented:
            raise NotImplementedError(".event_dim cannot be determined statically")
        return self._event_dim

    def __call__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        if is_discrete is NotImplemented:
            is_discrete = self._is_discrete
        if event_dim is NotImplemented:
            event_dim = self._event_dim
        return _Dependent(is_discrete=is_discrete, event_dim=event_dim)

    def check(self, x):  # noqa: ARG002 - a dependent constraint cannot check values (raises, as PyTorch)
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint):
    """Whether ``constraint`` is a ``dependent`` placeholder (which validation skips).

    Args:
        constraint: a constraint.

    Returns:
        bool.

    Example:
        >>> from ember.distributions import constraints
        >>> constraints.is_dependent(constraints.dependent)
        True
        >>> constraints.is_dependent(constraints.real)
        False
    """
    return isinstance(constraint, _Dependent)


class _DependentProperty(property, _Dependent):
    """A property that is also a ``dependent`` constraint: the decorator for supports computed
    from a distribution's parameters (``Uniform.support``). Read on the class it is the
    placeholder; read on an instance it calls ``fn``.

    Args:
        fn: the property's getter (None: decorate later, calling the object on ``fn``).
        is_discrete: the placeholder's ``is_discrete``, when known.
        event_dim: the placeholder's ``event_dim``, when known.

    Example:
        >>> from ember.distributions import Uniform, constraints
        >>> constraints.is_dependent(Uniform.support)
        True
        >>> Uniform(0.0, 2.0).support
        Interval(lower_bound=0.0, upper_bound=2.0)
    """

    def __init__(self, fn=None, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        property.__init__(self, fn)
        self._is_discrete = is_discrete
        self._event_dim = event_dim

    def __call__(self, fn):
        return _DependentProperty(fn, is_discrete=self._is_discrete, event_dim=self._event_dim)


class _IndependentConstraint(Constraint):
    """Reinterpret the rightmost ``reinterpreted_batch_ndims`` batch dims of a constraint as
    event dims: a value is valid when every element of those dims is
    (``constraints.independent``; ``real_vector`` is ``independent(real, 1)``).

    Args:
        base_constraint: the constraint on each element.
        reinterpreted_batch_ndims: how many dims to check together.

    Example:
        >>> from ember.distributions import constraints
        >>> c = constraints.independent(constraints.positive, 1)
        >>> c.check(ember.tensor([[1.0, 2.0], [1.0, -2.0]])), c.event_dim
        (tensor([ True, False]), 1)
    """

    def __init__(self, base_constraint, reinterpreted_batch_ndims):
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    @property
    def is_discrete(self):
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def check(self, value):
        result = self.base_constraint.check(value)
        n = self.reinterpreted_batch_ndims
        if result.ndim < n:
            raise ValueError(f"Expected value.dim() >= {n + self.base_constraint.event_dim} but "
                             f"got {value.ndim}")
        if n:
            result = result.reshape(tuple(result.shape[:result.ndim - n]) + (-1,)).all(-1)
        return result

    def __repr__(self):
        return f"IndependentConstraint({self.base_constraint!r}, " \
               f"{self.reinterpreted_batch_ndims})"


def _b(a):
    return wrap(xp_of(a).asarray(a, dtype=bool))  # on the value's device


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value):
        v = value._data
        return _b((v == 0) | (v == 1))


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1

    def check(self, value):
        v = value._data
        return _b(((v == 0) | (v == 1)).all(-1) & (v.sum(-1) == 1))


class _IntegerInterval(Constraint):
    """Integers in ``[lower_bound, upper_bound]`` (``constraints.integer_interval``).

    Args:
        lower_bound: the smallest valid value.
        upper_bound: the largest valid value.

    Example:
        >>> from ember.distributions import constraints
        >>> constraints.integer_interval(0, 3).check(ember.tensor([0.0, 1.5, 3.0]))
        tensor([ True, False,  True])
    """

    is_discrete = True

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value):
        v = value._data
        return _b((v % 1 == 0) & (_raw(self.lower_bound) <= v) & (v <= _raw(self.upper_bound)))

    def __repr__(self):
        return f"IntegerInterval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _IntegerGreaterThan(Constraint):
    is_discrete = True

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        v = value._data
        return _b((v % 1 == 0) & (v >= _raw(self.lower_bound)))

    def __repr__(self):
        return f"IntegerGreaterThan(lower_bound={self.lower_bound})"


def _raw(x):
    return x._data if hasattr(x, "_data") else x


class _Real(Constraint):
    def check(self, value):
        v = value._data
        return _b(v == v)  # False for nan


class _GreaterThan(Constraint):
    """Values strictly greater than ``lower_bound`` (``constraints.greater_than``;
    ``positive`` is ``greater_than(0)``).

    Args:
        lower_bound: the bound (a number or a tensor, broadcast against the value).

    Example:
        >>> from ember.distributions import constraints
        >>> constraints.greater_than(1.0).check(ember.tensor([1.0, 1.5]))
        tensor([False,  True])
    """

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        return _b(_raw(self.lower_bound) < value._data)

    def __repr__(self):
        return f"GreaterThan(lower_bound={self.lower_bound})"


class _GreaterThanEq(Constraint):
    """Values greater than or equal to ``lower_bound`` (``constraints.greater_than_eq``;
    ``nonnegative`` is ``greater_than_eq(0)``).

    Args:
        lower_bound: the bound (a number or a tensor).

    Example:
        >>> from ember.distributions import constraints
        >>> constraints.greater_than_eq(1.0).check(ember.tensor([1.0, 0.5]))
        tensor([ True, False])
    """

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        return _b(_raw(self.lower_bound) <= value._data)

    def __repr__(self):
        return f"GreaterThanEq(lower_bound={self.lower_bound})"


class _LessThan(Constraint):
    """Values strictly less than ``upper_bound`` (``constraints.less_than``).

    Args:
        upper_bound: the bound (a number or a tensor).

    Example:
        >>> from ember.distributions import constraints
        >>> constraints.less_than(0.0).check(ember.tensor([-1.0, 0.0]))
        tensor([ True, False])
    """

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return _b(value._data < _raw(self.upper_bound))

    def __repr__(self):
        return f"LessThan(upper_bound={self.upper_bound})"


class _Interval(Constraint):
    """Values in the closed interval ``[lower_bound, upper_bound]`` (``constraints.interval``;
    ``unit_interval`` is ``interval(0, 1)``).

    Args:
        lower_bound: the lower end (a number or a tensor).
        upper_bound: the upper end (a number or a tensor).

    Example:
        >>> from ember.distributions import constraints
        >>> constraints.interval(0.0, 1.0).check(ember.tensor([0.0, 1.0, 1.5]))
        tensor([ True,  True, False])
    """

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value):
        v = value._data
        return _b((_raw(self.lower_bound) <= v) & (v <= _raw(self.upper_bound)))

    def __repr__(self):
        return f"Interval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _HalfOpenInterval(_Interval):
    """Values in ``[lower_bound, upper_bound)`` (``constraints.half_open_interval``).

    Args:
        lower_bound: the lower end, included.
        upper_bound: the upper end, excluded.

    Example:
        >>> from ember.distributions import constraints
        >>> constraints.half_open_interval(0.0, 1.0).check(ember.tensor([0.0, 1.0]))
        tensor([ True, False])
    """

    def check(self, value):
        v = value._data
        return _b((_raw(self.lower_bound) <= v) & (v < _raw(self.upper_bound)))

    def __repr__(self):
        return f"HalfOpenInterval(lower_bound={self.lower_bound}, " \
               f"upper_bound={self.upper_bound})"


class _Simplex(Constraint):
    event_dim = 1

    def check(self, value):
        v = value._data
        xp = xp_of(v)
        return _b(xp.all(v >= 0, axis=-1) & (xp.abs(v.sum(-1) - 1) < 1e-6))


class _Square(Constraint):
    event_dim = 2

    def check(self, value):
        v = value._data
        xp = xp_of(v)
        return _b(xp.full(v.shape[:-2], v.shape[-1] == v.shape[-2], dtype=bool))


class _Symmetric(_Square):
    def check(self, value):
        v = value._data
        xp = xp_of(v)
        if v.shape[-1] != v.shape[-2]:
            return _b(xp.zeros(v.shape[:-2], bool))
        return _b(xp.isclose(v, xp.swapaxes(v, -1, -2), atol=1e-6).all((-2, -1)))


class _LowerTriangular(Constraint):
    event_dim = 2

    def check(self, value):
        v = value._data
        xp = xp_of(v)
        return _b((xp.tril(v) == v).reshape(v.shape[:-2] + (-1,)).min(-1))


class _LowerCholesky(Constraint):
    event_dim = 2

    def check(self, value):
        v = value._data
        xp = xp_of(v)
        tri = (xp.tril(v) == v).reshape(v.shape[:-2] + (-1,)).min(-1)
        pos = (xp.diagonal(v, 0, -2, -1) > 0).min(-1)
        return _b(tri & pos)


class _CorrCholesky(_LowerCholesky):
    def check(self, value):
        v = value._data
        xp = xp_of(v)
        unit = xp.abs(xp.linalg.norm(v, axis=-1) - 1) <= 1e-4 * v.shape[-1]
        return _b(super().check(value)._data & unit.all(-1))


class _PositiveDefinite(_Symmetric):
    def check(self, value):
        sym = super().check(value)._data
        v = value._data
        xp = xp_of(v)
        if v.shape[-1] != v.shape[-2]:
            return _b(sym)
        with np.errstate(all="ignore"):
            ev = xp.linalg.eigvalsh(xp.nan_to_num(v))
        return _b(sym & (ev > 0).all(-1))


class _PositiveSemidefinite(_Symmetric):
    def check(self, value):
        sym = super().check(value)._data
        v = value._data
        xp = xp_of(v)
        ev = xp.linalg.eigvalsh(xp.nan_to_num(v))
        return _b(sym & (ev >= 0).all(-1))


class _Cat(Constraint):
    """Apply ``cseq[i]`` to the i-th block, ``lengths[i]`` long, of the value along ``dim``
    (``constraints.cat``, the constraint of a ``torch.cat`` of parameters).

    Args:
        cseq: the constraints, one per block.
        dim: the dim the blocks are laid along.
        lengths: each block's length along ``dim`` (default: 1 each).

    Example:
        >>> from ember.distributions import constraints
        >>> c = constraints.cat([constraints.real, constraints.positive], dim=0, lengths=[1, 2])
        >>> c.check(ember.tensor([-1.0, 1.0, -2.0]))
        tensor([ True,  True, False])
    """

    def __init__(self, cseq, dim=0, lengths=None):
        self.cseq = list(cseq)
        self.lengths = [1] * len(self.cseq) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.cseq):
            raise ValueError(f"constraints.cat: {len(self.lengths)} lengths for "
                             f"{len(self.cseq)} constraints")
        self.dim = dim

    @property
    def is_discrete(self):
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        return max(c.event_dim for c in self.cseq)

    def check(self, value):
        from ember._ops.shape import cat

        if not -value.ndim <= self.dim < value.ndim:
            raise ValueError(f"constraints.cat: dim {self.dim} out of range for a "
                             f"{value.ndim}-d value")
        parts, start = [], 0
        for c, n in zip(self.cseq, self.lengths):
            parts.append(c.check(value.narrow(self.dim, start, n)))
            start += n
        return cat(parts, self.dim)


class _Stack(Constraint):
    """Apply ``cseq[i]`` to the i-th slice of the value along ``dim`` (``constraints.stack``, the
    constraint of a ``torch.stack`` of parameters).

    Args:
        cseq: the constraints, one per slice.
        dim: the dim the slices are stacked along.

    Example:
        >>> from ember.distributions import constraints
        >>> c = constraints.stack([constraints.real, constraints.positive])
        >>> c.check(ember.tensor([-1.0, -2.0]))
        tensor([ True, False])
    """

    def __init__(self, cseq, dim=0):
        self.cseq = list(cseq)
        self.dim = dim

    @property
    def is_discrete(self):
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        d = max(c.event_dim for c in self.cseq)
        return d + 1 if self.dim + d < 0 else d

    def check(self, value):
        from ember._ops.shape import stack

        if not -value.ndim <= self.dim < value.ndim:
            raise ValueError(f"constraints.stack: dim {self.dim} out of range for a "
                             f"{value.ndim}-d value")
        if value.shape[self.dim] != len(self.cseq):
            raise ValueError(f"constraints.stack: expected {len(self.cseq)} slices along dim "
                             f"{self.dim}, got {value.shape[self.dim]}")
        return stack([c.check(value.select(self.dim, i)) for i, c in enumerate(self.cseq)],
                     self.dim)


class _Multinomial(Constraint):
    """Nonnegative counts (over the last dim) whose sum is at most ``upper_bound``
    (``constraints.multinomial``; PyTorch checks the same weaker bound, not equality).

    Args:
        upper_bound: the largest total count.

    Example:
        >>> from ember.distributions import constraints
        >>> constraints.multinomial(3).check(ember.tensor([[1.0, 2.0], [2.0, 2.0]]))
        tensor([ True, False])
    """

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, x):
        v = x._data
        return _b((v >= 0).all(-1) & (v.sum(-1) <= _raw(self.upper_bound)))


class MixtureSameFamilyConstraint(Constraint):
    """The support of a ``MixtureSameFamily``: the components' constraint, checked on a value
    with the mixture dim added back (a value is valid when it is valid for the components).

    Args:
        base_constraint: the component distribution's support.

    Example:
        >>> from ember.distributions import constraints
        >>> c = constraints.MixtureSameFamilyConstraint(constraints.positive)
        >>> c.check(ember.tensor([1.0, -1.0]))
        tensor([ True, False])
    """

    def __init__(self, base_constraint):
        if not isinstance(base_constraint, Constraint):
            raise TypeError(f"base_constraint must be a Constraint, got "
                            f"{type(base_constraint).__name__}")
        self.base_constraint = base_constraint

    @property
    def is_discrete(self):
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        return self.base_constraint.event_dim

    def check(self, value):
        if value.ndim < self.event_dim:
            raise ValueError(f"Expected value.dim() >= {self.event_dim} but got {value.ndim}")
        result = self.base_constraint.check(value.unsqueeze(-1 - self.event_dim))
        keep = value.ndim - self.event_dim
        return result.reshape(tuple(result.shape[:keep]) + (-1,)).all(-1)

    def __repr__(self):
        return f"{self.__class__.__name__}({self.base_constraint!r})"


dependent = _Dependent()
dependent_property = _DependentProperty
independent = _IndependentConstraint
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
real = _Real()
real_vector = independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
unit_interval = _Interval(0.0, 1.0)
interval = _Interval
half_open_interval = _HalfOpenInterval
simplex = _Simplex()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
corr_cholesky = _CorrCholesky()
square = _Square()
symmetric = _Symmetric()
positive_definite = _PositiveDefinite()
positive_semidefinite = _PositiveSemidefinite()
cat = _Cat
stack = _Stack
multinomial = _Multinomial
