"""``Distribution``: the base class (shapes, sampling, validation), as in PyTorch."""

from __future__ import annotations

import warnings
from typing import Optional

import ember
from ember._tensor import Size, Tensor
from ember.distributions import constraints
from ember.distributions.utils import lazy_property

__all__ = ["Distribution"]


class Distribution:
    """A parameterised probability distribution.

    Shapes: ``batch_shape`` indexes independent distributions, ``event_shape`` is the shape
    of one draw; ``sample(sample_shape)`` returns ``sample_shape + batch_shape + event_shape``.

    Args:
        batch_shape: the batch shape.
        event_shape: the event shape.
        validate_args: check parameters (and ``log_prob`` values) against their constraints,
            raising ValueError; defaults to ``Distribution.set_default_validate_args``'s value
            (True, like PyTorch in debug mode).

    Example::

        >>> ember.distributions.Normal(0.0, 1.0).sample((3,)).shape
        torch.Size([3])
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn argument validation on or off for every distribution built afterwards.

        Args:
            value: True to validate by default.

        Returns:
            None.

        Example:
            >>> ember.distributions.Distribution.set_default_validate_args(True)
        """
        if value not in (True, False):
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape=Size(), event_shape=Size(),
                 validate_args: Optional[bool] = None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            try:
                arg_constraints = self.arg_constraints
            except NotImplementedError:
                arg_constraints = {}
                warnings.warn(f"{self.__class__} does not define `arg_constraints`. Please set "
                              "`arg_constraints = {}` or initialize the distribution with "
                              "`validate_args=False` to turn off validation.", stacklevel=2)
            for param, constraint in arg_constraints.items():
                if constraints.is_dependent(constraint):
                    continue
                if param not in self.__dict__ and isinstance(getattr(type(self), param, None),
                                                             lazy_property):
                    continue  # skip checking lazily-constructed args
                value = getattr(self, param)
                valid = constraint.check(value)
                if not bool(valid.all()):
                    raise ValueError(
                        f"Expected parameter {param} ({type(value).__name__} of shape "
                        f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                        f"constraint {constraint!r}, but found invalid values:\n{value}")
        super().__init__()

    def expand(self, batch_shape, _instance=None):
        """A new distribution with parameters expanded to ``batch_shape`` (no copy).

        Args:
            batch_shape: the new batch shape (the old one must broadcast to it).

        Returns:
            A new distribution of that batch shape, sharing parameters.

        Example:
            >>> ember.distributions.Normal(0.0, 1.0).expand((3,)).batch_shape
            torch.Size([3])
        """
        raise NotImplementedError

    @property
    def batch_shape(self) -> Size:
        """The shape over which the parameters are batched.

        Example:
            >>> d = ember.distributions.Normal(ember.tensor([0.0, 1.0]), ember.tensor([1.0, 2.0]))
            >>> d.batch_shape
            torch.Size([2])
        """
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        """The shape of a single sample.

        Example:
            >>> d = ember.distributions.Normal(ember.tensor([0.0, 1.0]), ember.tensor([1.0, 2.0]))
            >>> d.event_shape
            torch.Size([])
        """
        return self._event_shape

    @property
    def arg_constraints(self) -> dict:
        """The constraints each parameter must satisfy, by name.

        Example:
            >>> d = ember.distributions.Normal(ember.tensor([0.0, 1.0]), ember.tensor([1.0, 2.0]))
            >>> sorted(d.arg_constraints)
            ['loc', 'scale']
        """
        raise NotImplementedError

    @property
    def support(self):
        """The constraint describing the values the distribution takes.

        Example:
            >>> d = ember.distributions.Normal(ember.tensor([0.0, 1.0]), ember.tensor([1.0, 2.0]))
            >>> d.support
            Real()
        """
        raise NotImplementedError

    @property
    def mean(self) -> Tensor:
        """The mean of each distribution.

        Example:
            >>> d = ember.distributions.Normal(ember.tensor([0.0, 1.0]), ember.tensor([1.0, 2.0]))
            >>> d.mean
            tensor([0., 1.])
        """
        raise NotImplementedError(f"{self.__class__} does not implement mean")

    @property
    def mode(self) -> Tensor:
        """The mode of each distribution.

        Example:
            >>> d = ember.distributions.Normal(ember.tensor([0.0, 1.0]), ember.tensor([1.0, 2.0]))
            >>> d.mode
            tensor([0., 1.])
        """
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self) -> Tensor:
        """The variance of each distribution.

        Example:
            >>> d = ember.distributions.Normal(ember.tensor([0.0, 1.0]), ember.tensor([1.0, 2.0]))
            >>> d.variance
            tensor([1., 4.])
        """
        raise NotImplementedError(f"{self.__class__} does not implement variance")

    @property
    def stddev(self) -> Tensor:
        """The standard deviation of each distribution.

        Example:
            >>> d = ember.distributions.Normal(ember.tensor([0.0, 1.0]), ember.tensor([1.0, 2.0]))
            >>> d.stddev
            tensor([1., 2.])
        """
        return self.variance.sqrt()

    def sample(self, sample_shape=Size()) -> Tensor:
        """Draw a sample (no gradient); reparameterised distributions call ``rsample``.

        Args:
            sample_shape: the shape of the batch of samples to draw (default ``()``).

        Returns:
            A tensor ``sample_shape + batch_shape + event_shape`` (not differentiable; see
            ``rsample``).

        Example:
            >>> ember.distributions.Normal(0.0, 1.0).sample((2, 3)).shape
            torch.Size([2, 3])
        """
        with ember.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()) -> Tensor:
        """A reparameterised sample: differentiable w.r.t. the parameters.

        Args:
            sample_shape: the shape of the batch of samples to draw (default ``()``).

        Returns:
            A reparameterised sample through which gradients flow.

        Example:
            >>> mu = ember.tensor(0.0, requires_grad=True)
            >>> ember.distributions.Normal(mu, 1.0).rsample().requires_grad
            True
        """
        raise NotImplementedError

    def sample_n(self, n: int) -> Tensor:
        """Draws ``n`` samples (prefer ``sample((n,))``).

        Args:
            n: the number of samples.

        Returns:
            A tensor ``(n,) + batch_shape + event_shape``.

        Example:
            >>> ember.distributions.Normal(0.0, 1.0).sample_n(3).shape
            torch.Size([3])
        """
        warnings.warn("sample_n will be deprecated. Use .sample((n,)) instead", UserWarning,
                      stacklevel=2)
        return self.sample(Size((n,)))

    def log_prob(self, value: Tensor) -> Tensor:
        """The log of the probability density (or mass) at ``value``.

        Args:
            value: a tensor of values in the support.

        Returns:
            A tensor of the broadcast batch shape.

        Example:
            >>> d = ember.distributions.Normal(ember.tensor([0.0, 1.0]), ember.tensor([1.0, 2.0]))
            >>> d.log_prob(ember.tensor([0.0, 1.0]))
            tensor([-0.9189, -1.6121])
        """
        raise NotImplementedError

    def cdf(self, value: Tensor) -> Tensor:
        """The cumulative distribution function at ``value``.

        Args:
            value: a tensor of values in the support.

        Returns:
            A tensor.

        Example:
            >>> d = ember.distributions.Normal(ember.tensor([0.0, 1.0]), ember.tensor([1.0, 2.0]))
            >>> d.cdf(ember.tensor([0.0, 1.0]))
            tensor([0.5000, 0.5000])
        """
        raise NotImplementedError

    def icdf(self, value: Tensor) -> Tensor:
        """The inverse cumulative distribution function (quantile function).

        Args:
            value: probabilities in [0, 1].

        Returns:
            A tensor.

        Example:
            >>> d = ember.distributions.Normal(ember.tensor([0.0, 1.0]), ember.tensor([1.0, 2.0]))
            >>> d.icdf(ember.tensor([0.5, 0.5]))
            tensor([0., 1.])
        """
        raise NotImplementedError

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """All the values of a discrete distribution's support.

        Args:
            expand: expand the result over the batch shape (default True).

        Returns:
            A tensor ``(n,) + batch_shape + event_shape``.

        Example:
            >>> ember.distributions.Bernoulli(ember.tensor(0.3)).enumerate_support()
            tensor([0., 1.])
        """
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """The entropy of each distribution of the batch.

        Returns:
            A tensor of the batch shape.

        Example:
            >>> ember.distributions.Bernoulli(ember.tensor([0.5])).entropy()
            tensor([0.6931])
        """
        raise NotImplementedError

    def perplexity(self) -> Tensor:
        """``exp(entropy)``: the perplexity of each distribution.

        Returns:
            A tensor of the batch shape.

        Example:
            >>> ember.distributions.Categorical(ember.ones(4)).perplexity()
            tensor(4.)
        """
        return self.entropy().exp()

    def _extended_shape(self, sample_shape=Size()) -> Size:
        if not isinstance(sample_shape, Size):
            sample_shape = Size(sample_shape)
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def _validate_sample(self, value):
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dim_start = value.ndim - len(self._event_shape)
        if tuple(value.shape[event_dim_start:]) != tuple(self._event_shape):
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{value.size()} vs {self._event_shape}.")
        actual = tuple(value.shape)
        expected = tuple(self._batch_shape) + tuple(self._event_shape)
        for i, j in zip(reversed(actual), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{Size(actual)} vs {Size(expected)}.")
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(f"{self.__class__} does not define `support` to enable sample "
                          "validation. Please initialize the distribution with "
                          "`validate_args=False` to turn off validation.", stacklevel=2)
            return
        valid = support.check(value)
        if not bool(valid.all()):
            raise ValueError(f"Expected value argument ({type(value).__name__} of shape "
                             f"{tuple(value.shape)}) to be within the support ({support!r}) "
                             f"of the distribution {self!r}, but found invalid values:\n{value}")

    def _get_checked_instance(self, cls, _instance=None):
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(f"Subclass {self.__class__.__name__} of {cls.__name__} "
                                      "that defines a custom __init__ method must also define "
                                      "a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    def __repr__(self):
        names = [k for k in self.arg_constraints if k in self.__dict__]
        parts = []
        for p in names:
            v = self.__dict__[p]
            parts.append(f"{p}: {v if v.numel() == 1 else v.size()}")
        return self.__class__.__name__ + "(" + ", ".join(parts) + ")"
