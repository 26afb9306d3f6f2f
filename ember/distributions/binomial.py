"""Binomial, Geometric, NegativeBinomial and Multinomial: counting distributions."""

from __future__ import annotations

import math

import numpy as np

import ember
from ember import _random
from ember._ops.core import wrap
from ember._tensor import Size
from ember.distributions import constraints
from ember.distributions._special import lgamma
from ember.distributions.categorical import Categorical, _bce_with_logits
from ember.distributions.distribution import Distribution
from ember.distributions.utils import (broadcast_all, lazy_property, logits_to_probs,
                                       probs_to_logits)

__all__ = ["Binomial", "Geometric", "NegativeBinomial", "Multinomial"]


def _one_of(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


def _clamp_by_zero(x):
    # max(x, 0) whose gradient at 0 is 1/2, as PyTorch's
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


def _set_param(self, probs, logits, *others):
    """Broadcast ``others`` with the given parameter; store it as probs or logits."""
    if probs is not None:
        *rest, self.probs = broadcast_all(*others, probs)
        self._param = self.probs
    else:
        *rest, self.logits = broadcast_all(*others, logits)
        self._param = self.logits
    return rest


def _expand_param(new, self, batch_shape):
    if "probs" in self.__dict__:
        new.probs = self.probs.expand(batch_shape)
        new._param = new.probs
    if "logits" in self.__dict__:
        new.logits = self.logits.expand(batch_shape)
        new._param = new.logits


class Binomial(Distribution):
    """Number of successes in ``total_count`` Bernoulli trials with success ``probs``
    (or ``logits``); ``total_count`` broadcasts with the parameter.

    Args:
        total_count: the number of trials.
        probs: the event probabilities (give ``probs`` or ``logits``, not both).
        logits: the log-odds (unnormalised log-probabilities for categorical distributions).
        validate_args: check the parameters (and later the values passed to ``log_prob``)
            against their constraints (default: ``Distribution``'s global setting, on).

    Example::

        >>> Binomial(4, probs=ember.tensor(0.5)).log_prob(ember.tensor(2.0)).exp()
        tensor(0.3750)
    """

    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        (self.total_count,) = _set_param(self, probs, logits, total_count)
        self.total_count = self.total_count.type_as(self._param)
        super().__init__(Size(self._param.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Binomial, _instance)
        batch_shape = Size(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        _expand_param(new, self, batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        with ember.no_grad():
            n = np.broadcast_to(self.total_count._data, shape).astype(np.int64)
            p = np.broadcast_to(self.probs._data, shape).astype(np.float64)
            draws = _random._gen(None).binomial(n, p)
            return wrap(np.asarray(draws, dtype=self._param._data.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n = self.total_count
        log_factorial_n = lgamma(n + 1)
        log_factorial_k = lgamma(value + 1)
        log_factorial_nmk = lgamma(n - value + 1)
        # n * log(1 + exp(logits)), stable for large |logits|
        normalize_term = (n * _clamp_by_zero(self.logits)
                          + n * (-self.logits.abs()).exp().log1p() - log_factorial_n)
        return value * self.logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self):
        total_count = int(self.total_count.max())
        if not bool((self.total_count == total_count).all()):
            raise NotImplementedError("Inhomogeneous total count not supported by `entropy`.")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        total_count = int(self.total_count.max())
        if not bool((self.total_count == total_count).all()):
            raise NotImplementedError("Inhomogeneous total count not supported by "
                                      "`enumerate_support`.")
        values = ember.arange(1 + total_count, dtype=self._param.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


class Geometric(Distribution):
    """Number of failures before the first success in Bernoulli(``probs``) trials.

    Args:
        probs: the event probabilities (give ``probs`` or ``logits``, not both).
        logits: the log-odds (unnormalised log-probabilities for categorical distributions).
        validate_args: check the parameters (and later the values passed to ``log_prob``)
            against their constraints (default: ``Distribution``'s global setting, on).

    Example::

        >>> Geometric(probs=ember.tensor(0.5)).log_prob(ember.tensor(1.0)).exp()
        tensor(0.2500)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        _set_param(self, probs, logits)
        super().__init__(Size(self._param.shape), validate_args=validate_args)
        if self._validate_args and probs is not None:
            if not bool((self.probs > 0).all()):
                raise ValueError(f"Expected parameter probs ({type(self.probs).__name__} of "
                                 f"shape {tuple(self.probs.shape)}) of distribution {self!r} to "
                                 "satisfy the constraint HalfOpenInterval(lower_bound=0.0, "
                                 f"upper_bound=1.0), but found invalid values:\n{self.probs}")

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Geometric, _instance)
        batch_shape = Size(batch_shape)
        _expand_param(new, self, batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return ember.zeros_like(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        with ember.no_grad():
            tiny = float(np.finfo(self.probs._data.dtype).tiny)
            u = _random._gen(None).random(shape)
            u = np.maximum(u, tiny).astype(self.probs._data.dtype)
            with np.errstate(divide="ignore"):
                r = np.floor(np.log(u) / np.log1p(-self.probs._data))
            return wrap(r.astype(self.probs._data.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        # p == 1 at value 0 has probability 1: 0 * log(0) is taken as 0
        probs = probs.masked_fill((probs == 1) & (value == 0), 0.0)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        return _bce_with_logits(self.logits, self.probs) / self.probs


class NegativeBinomial(Distribution):
    """Number of successes before ``total_count`` failures, each trial succeeding with
    ``probs``.

    Args:
        total_count: the number of trials.
        probs: the event probabilities (give ``probs`` or ``logits``, not both).
        logits: the log-odds (unnormalised log-probabilities for categorical distributions).
        validate_args: check the parameters (and later the values passed to ``log_prob``)
            against their constraints (default: ``Distribution``'s global setting, on).

    Example::

        >>> NegativeBinomial(2.0, probs=ember.tensor(0.5)).mean
        tensor(2.)
    """

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        (self.total_count,) = _set_param(self, probs, logits, total_count)
        self.total_count = self.total_count.type_as(self._param)
        super().__init__(Size(self._param.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(NegativeBinomial, _instance)
        batch_shape = Size(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        _expand_param(new, self, batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def mean(self):
        return self.total_count * self.logits.exp()

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        with ember.no_grad():
            g = _random._gen(None)
            n = np.broadcast_to(self.total_count._data, shape).astype(np.float64)
            p = np.broadcast_to(self.probs._data, shape).astype(np.float64)
            # Gamma-Poisson mixture: rate ~ Gamma(n, p / (1 - p))
            with np.errstate(divide="ignore", invalid="ignore"):
                rate = g.standard_gamma(n) * (p / (1 - p))
            return wrap(g.poisson(rate).astype(self._param._data.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_unnormalized = (self.total_count * (-self.logits.clamp(min=0) - (
            -self.logits.abs()).exp().log1p()) + value * (self.logits - self.logits.clamp(
                min=0) - (-self.logits.abs()).exp().log1p()))
        log_norm = (-lgamma(self.total_count + value) + lgamma(1.0 + value)
                    + lgamma(self.total_count))
        log_norm = log_norm.masked_fill(self.total_count + value == 0, 0.0)
        return log_unnormalized - log_norm


class Multinomial(Distribution):
    """Counts of ``total_count`` draws from a categorical distribution over the last dim.

    Args:
        total_count: the number of trials.
        probs: the event probabilities (give ``probs`` or ``logits``, not both).
        logits: the log-odds (unnormalised log-probabilities for categorical distributions).
        validate_args: check the parameters (and later the values passed to ``log_prob``)
            against their constraints (default: ``Distribution``'s global setting, on).

    Example::

        >>> d = Multinomial(4, probs=ember.tensor([0.5, 0.5]))
        >>> d.log_prob(ember.tensor([2.0, 2.0])).exp()
        tensor(0.3750)
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        from ember.distributions.binomial import Binomial

        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        super().__init__(self._categorical.batch_shape,
                         Size(self._categorical.param_shape[-1:]), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = Size(batch_shape)
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        new._binomial = Binomial(total_count=self.total_count, probs=new._categorical.probs)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def param_shape(self):
        return self._categorical.param_shape

    def sample(self, sample_shape=Size()):
        sample_shape = Size(sample_shape)
        idx = self._categorical.sample(Size((self.total_count,)) + sample_shape)._data
        k = self._categorical._num_events
        counts = (idx[..., None] == np.arange(k)).sum(0)
        return wrap(counts.astype(self.probs._data.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        logits = logits.masked_fill((value == 0) & (logits == -math.inf), 0.0)
        log_factorial_n = lgamma(value.sum(-1) + 1)
        log_factorial_xs = lgamma(value + 1).sum(-1)
        log_powers = (logits * value).sum(-1)
        return log_factorial_n - log_factorial_xs + log_powers

    def entropy(self):
        n = float(self.total_count)
        term1 = n * self._categorical.entropy() - math.lgamma(n + 1)
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = self._binomial.log_prob(support).exp()
        weights = lgamma(support + 1)
        term2 = (binomial_probs * weights).sum((0, -1))
        return term1 + term2


