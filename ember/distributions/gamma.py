"""Gamma, Beta, Dirichlet, Poisson: the families built on the gamma function."""

from __future__ import annotations

import numpy as np

import ember
from ember import _random
from ember._backends import KERNELS as B
from ember._ops.core import OpDef, apply, wrap
from ember._tensor import Size
from ember.distributions import constraints
from ember.distributions._special import digamma, lgamma, xlogy
from ember.distributions.distribution import Distribution
from ember.distributions.exp_family import ExponentialFamily
from ember.distributions.utils import broadcast_all

__all__ = ["Gamma", "Beta", "Dirichlet", "Poisson"]


# NOTE [ Implicit reparameterisation of gamma samples ]
# x ~ Gamma(alpha, 1) has no closed-form inverse CDF, so rsample differentiates x through
# the implicit function F(x; alpha) = u: dx/dalpha = -(dF/dalpha) / f(x; alpha) (Figurnov
# et al. 2018, which PyTorch also uses). dF/dalpha is taken by a central difference of the
# regularised incomplete gamma function in float64 (the backend's gammainc kernel: SciPy's
# when installed, NumPy's otherwise, NOTE [ Special functions without SciPy ]); the
# derivative is a first-order one (its own gradient is not defined here).
def _standard_gamma_fwd(alpha, shape):
    gen = _random._gen(None)
    a = np.broadcast_to(alpha, shape)
    x = gen.standard_gamma(a.astype(np.float64))
    tiny = np.finfo(alpha.dtype).tiny
    return np.maximum(x, tiny).astype(alpha.dtype)


_STD_GAMMA = OpDef("distributions_standard_gamma", _standard_gamma_fwd, None, save="xy",
                   node_name="StandardGammaBackward0")


def _dx_dalpha(x, a):
    x = x.astype(np.float64)
    a = a.astype(np.float64)
    h = 1e-5 * np.maximum(a, 1e-3)
    with np.errstate(all="ignore"):
        dF = (B.gammainc(a + h, x) - B.gammainc(a - h, x)) / (2 * h)
        log_pdf = (a - 1) * np.log(x) - x - B.lgamma(a)
        return -dF / np.exp(log_pdf)


@_STD_GAMMA.grad
def _(ctx, g):
    alpha, = ctx.inputs
    x = ctx.output
    d = _dx_dalpha(x._data, np.broadcast_to(alpha._data, x._data.shape))
    return (g * wrap(d.astype(x._data.dtype)),)


def _standard_gamma(alpha, shape):
    return apply(_STD_GAMMA, (alpha,), (tuple(shape),))


def _finish(new, self, batch_shape, event_shape=Size()):
    Distribution.__init__(new, batch_shape, event_shape, validate_args=False)
    new._validate_args = self._validate_args
    return new


class Gamma(ExponentialFamily):
    """Gamma distribution with ``concentration`` (shape) and ``rate`` (1 / scale).

    Args:
        concentration: the concentration (shape) parameter, > 0.
        rate: the rate, > 0.
        validate_args: check the parameters (and later the values passed to ``log_prob``)
            against their constraints (default: ``Distribution``'s global setting, on).

    Example::

        >>> ember.distributions.Gamma(2.0, 1.0).mean
        tensor(2.)
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(Size(self.concentration.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        return _finish(new, self, batch_shape)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        x = _standard_gamma(self.concentration, shape) / self.rate
        tiny = float(np.finfo(x._data.dtype).tiny)
        return x.clamp(min=tiny)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.to(self.rate.dtype) if value.dtype is not self.rate.dtype else value
        return (xlogy(self.concentration, self.rate) + xlogy(self.concentration - 1, value)
                - self.rate * value - lgamma(self.concentration))

    def entropy(self):
        c = self.concentration
        return c - self.rate.log() + lgamma(c) + (1.0 - c) * digamma(c)

    def cdf(self, value):
        """The regularised lower incomplete gamma function ``P(concentration, rate * value)``
        (differentiable in ``value`` and ``rate``, as PyTorch's).

        Example::

            >>> ember.distributions.Gamma(1.0, 1.0).cdf(ember.tensor(1.0))
            tensor(0.6321)
        """
        if self._validate_args:
            self._validate_sample(value)
        from ember.special import gammainc

        return gammainc(self.concentration, self.rate * value)

    # exponential family: theta = (concentration - 1, -rate)
    _mean_carrier_measure = 0

    @property
    def _natural_params(self):
        return self.concentration - 1, -self.rate

    def _log_normalizer(self, x, y):
        return lgamma(x + 1) + (x + 1) * (-y.reciprocal()).log()


class Dirichlet(ExponentialFamily):
    """Dirichlet distribution over the simplex (event shape ``(K,)``).

    Args:
        concentration: the concentration (shape) parameter, > 0.
        validate_args: check the parameters (and later the values passed to ``log_prob``)
            against their constraints (default: ``Distribution``'s global setting, on).

    Example::

        >>> ember.distributions.Dirichlet(ember.tensor([1., 1.])).mean
        tensor([0.5000, 0.5000])
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.ndim < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        shape = concentration.shape
        super().__init__(Size(shape[:-1]), Size(shape[-1:]), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(tuple(batch_shape) + self.event_shape)
        return _finish(new, self, batch_shape, self.event_shape)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        g = _standard_gamma(self.concentration, shape)
        return g / g.sum(-1, keepdim=True)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return (xlogy(c - 1.0, value).sum(-1) + lgamma(c.sum(-1)) - lgamma(c).sum(-1))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        cm1 = (self.concentration - 1).clamp(min=0.0)
        mode = cm1 / cm1.sum(-1, keepdim=True)
        mask = (self.concentration < 1).all(-1)
        if bool(mask.any()):
            k = self.concentration.shape[-1]
            argmax = self.concentration.argmax(-1)._data
            onehot = (np.arange(k) == argmax[..., None]).astype(mode._data.dtype)
            mode = ember.where(mask.unsqueeze(-1), wrap(onehot), mode)
        return mode

    @property
    def variance(self):
        c0 = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (c0 - self.concentration) / (c0.pow(2) * (c0 + 1))

    def entropy(self):
        c = self.concentration
        k = c.shape[-1]
        a0 = c.sum(-1)
        return (lgamma(c).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0)
                - ((c - 1.0) * digamma(c)).sum(-1))

    # exponential family: theta = concentration
    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return lgamma(x).sum(-1) - lgamma(x.sum(-1))


class Beta(ExponentialFamily):
    """Beta distribution with ``concentration1`` (alpha) and ``concentration0`` (beta).

    Args:
        concentration1: the first concentration parameter, > 0.
        concentration0: the second concentration parameter, > 0.
        validate_args: check the parameters (and later the values passed to ``log_prob``)
            against their constraints (default: ``Distribution``'s global setting, on).

    Example::

        >>> ember.distributions.Beta(2.0, 2.0).mean
        tensor(0.5000)
    """

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        super().__init__(Size(self.concentration1.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Beta, _instance)
        batch_shape = Size(batch_shape)
        new.concentration1 = self.concentration1.expand(batch_shape)
        new.concentration0 = self.concentration0.expand(batch_shape)
        return _finish(new, self, batch_shape)

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        a, b = self.concentration1, self.concentration0
        return (a - 1) / (a + b - 2)

    @property
    def variance(self):
        a, b = self.concentration1, self.concentration0
        total = a + b
        return a * b / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        x = _standard_gamma(self.concentration1, shape)
        y = _standard_gamma(self.concentration0, shape)
        return x / (x + y)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        return (xlogy(a - 1, value) + xlogy(b - 1, 1 - value)
                - (lgamma(a) + lgamma(b) - lgamma(a + b)))

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        t = a + b
        return (lgamma(a) + lgamma(b) - lgamma(t) - (a - 1) * digamma(a)
                - (b - 1) * digamma(b) + (t - 2) * digamma(t))

    # exponential family: theta = (concentration1, concentration0)
    @property
    def _natural_params(self):
        return self.concentration1, self.concentration0

    def _log_normalizer(self, x, y):
        return lgamma(x) + lgamma(y) - lgamma(x + y)


class Poisson(ExponentialFamily):
    """Poisson distribution with ``rate`` (> = 0); samples are float counts, as in PyTorch.

    Args:
        rate: the rate, > 0.
        validate_args: check the parameters (and later the values passed to ``log_prob``)
            against their constraints (default: ``Distribution``'s global setting, on).

    Example::

        >>> ember.distributions.Poisson(2.0).log_prob(ember.tensor(0.0)).exp()
        tensor(0.1353)
    """

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(Size(self.rate.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Poisson, _instance)
        batch_shape = Size(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        return _finish(new, self, batch_shape)

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        lam = np.broadcast_to(self.rate._data, shape)
        return wrap(_random._gen(None).poisson(lam).astype(self.rate._data.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return xlogy(value, rate) - rate - lgamma(value + 1)

    # exponential family: theta = log(rate)
    @property
    def _natural_params(self):
        return (self.rate.log(),)

    def _log_normalizer(self, x):
        return x.exp()
