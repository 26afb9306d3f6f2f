"""Relaxed (concrete / Gumbel-softmax) distributions: differentiable stand-ins for Bernoulli
and one-hot Categorical samples, controlled by a ``temperature``."""

from __future__ import annotations


import ember
from ember._tensor import Size, Tensor
from ember.distributions import constraints
from ember.distributions._special import lgamma
from ember.distributions.categorical import Categorical
from ember.distributions.distribution import Distribution
from ember.distributions.normal import _noise
from ember.distributions.transformed_distribution import TransformedDistribution
from ember.distributions.transforms import ExpTransform, SigmoidTransform
from ember.distributions.utils import (broadcast_all, clamp_probs, lazy_property,
                                       logits_to_probs, probs_to_logits)

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli", "ExpRelaxedCategorical",
           "RelaxedOneHotCategorical"]


def _temperature(t, like):
    if isinstance(t, Tensor):
        return t
    return ember.tensor(float(t), dtype=like.dtype)


def _uniform(shape, like):
    return clamp_probs(_noise(lambda g, s: g.random(s), shape, like))


class LogitRelaxedBernoulli(Distribution):
    """The logit of a ``RelaxedBernoulli`` sample (Maddison et al. 2017).

    Args:
        temperature: relaxation temperature (> 0).
        probs / logits: the Bernoulli parameter (exactly one).

    Example::

        >>> d = LogitRelaxedBernoulli(ember.tensor(0.5), probs=ember.tensor(0.3))
        >>> tuple(d.rsample().shape)
        ()
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = not isinstance(probs, Tensor)
            (self.probs,) = broadcast_all(probs)
        else:
            is_scalar = not isinstance(logits, Tensor)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        self.temperature = _temperature(temperature, self._param)
        batch_shape = Size() if is_scalar else Size(self._param.shape)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LogitRelaxedBernoulli, _instance)
        batch_shape = Size(batch_shape)
        new.temperature = self.temperature
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(batch_shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(batch_shape)
            new._param = new.logits
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    has_rsample = True

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        probs = clamp_probs(self.probs.expand(shape))
        u = _uniform(shape, probs)
        return (u.log() - (-u).log1p() + probs.log() - (-probs).log1p()) / self.temperature

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value * self.temperature
        return self.temperature.log() + diff - 2 * diff.exp().log1p()


class RelaxedBernoulli(TransformedDistribution):
    """A continuous relaxation of Bernoulli on (0, 1): ``sigmoid`` of a
    ``LogitRelaxedBernoulli`` sample; reparameterised.

    Args:
        temperature: the relaxation temperature, > 0.
        probs: the event probabilities (give ``probs`` or ``logits``, not both).
        logits: the log-odds (unnormalised log-probabilities for categorical distributions).
        validate_args: check the parameters (and later the values passed to ``log_prob``)
            against their constraints (default: ``Distribution``'s global setting, on).

    Example::

        >>> d = RelaxedBernoulli(ember.tensor(0.5), probs=ember.tensor([0.1, 0.9]))
        >>> tuple(d.rsample().shape)
        (2,)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base, SigmoidTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(RelaxedBernoulli, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs


class ExpRelaxedCategorical(Distribution):
    """The log of a ``RelaxedOneHotCategorical`` sample (log-space Gumbel-softmax).

    Args:
        temperature: the relaxation temperature (positive); lower is closer to one-hot.
        probs: event probabilities (exactly one of ``probs`` and ``logits``).
        logits: event log-odds.
        validate_args: check the arguments (default: the global setting).

    Example::

        >>> d = ExpRelaxedCategorical(ember.tensor(1.0), probs=ember.tensor([0.2, 0.8]))
        >>> bool(ember.isclose(d.rsample().exp().sum(), ember.tensor(1.0)))
        True
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        self.temperature = _temperature(temperature, self._categorical._param)
        super().__init__(self._categorical.batch_shape,
                         Size(self._categorical.param_shape[-1:]), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(ExpRelaxedCategorical, _instance)
        batch_shape = Size(batch_shape)
        new.temperature = self.temperature
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        u = _uniform(shape, self.logits)
        gumbels = -((-u.log()).log())
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(-1, keepdim=True)

    def log_prob(self, value):
        K = self._categorical._num_events
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_scale = lgamma(ember.full_like(self.temperature, float(K))) - \
            self.temperature.log() * -(K - 1)
        score = logits - value * self.temperature
        score = (score - score.logsumexp(-1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(TransformedDistribution):
    """A continuous relaxation of ``OneHotCategorical`` on the simplex (Gumbel-softmax /
    concrete distribution); reparameterised.

    Args:
        temperature: relaxation temperature (> 0); samples approach one-hot as it goes to 0.
        probs / logits: the category parameters (exactly one).

    Example::

        >>> d = RelaxedOneHotCategorical(ember.tensor(0.5), logits=ember.zeros(3))
        >>> bool(ember.isclose(d.rsample().sum(), ember.tensor(1.0)))
        True
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(RelaxedOneHotCategorical, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs


