"""``VonMises``: the circular normal distribution on angles."""

from __future__ import annotations

import math

import numpy as np

from ember import _random
from ember._ops.core import wrap
from ember._tensor import Size
from ember.distributions import constraints
from ember.distributions.distribution import Distribution
from ember.distributions.utils import broadcast_all, lazy_property

__all__ = ["VonMises"]


def _log_i0(k):
    # log I0(k) = log(I0(k) e^-k) + k, stable for large k (differentiable through i0e)
    from ember.special import i0e

    return i0e(k).log() + k


def _log_i1(k):
    from ember.special import i1e

    return i1e(k).log() + k


class VonMises(Distribution):
    """Von Mises distribution on the circle with mean direction ``loc`` and concentration
    ``concentration``; samples lie in [-pi, pi) (Best and Fisher's rejection sampler, in
    float64). Not reparameterised.

    Args:
        loc: the location (a tensor or number; parameters broadcast together).
        concentration: the concentration (shape) parameter, > 0.
        validate_args: check the parameters (and later the values passed to ``log_prob``)
            against their constraints (default: ``Distribution``'s global setting, on).

    Example::

        >>> VonMises(ember.tensor(0.0), ember.tensor(1.0)).log_prob(ember.tensor(0.0))
        tensor(-1.0738)
    """

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(Size(self.loc.shape), Size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(VonMises, _instance)
        batch_shape = Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        k = self.concentration
        return k * (value - self.loc).cos() - math.log(2 * math.pi) - _log_i0(k)

    def sample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        gen = _random._gen(None)
        loc = np.broadcast_to(self.loc._data.astype(np.float64), shape)
        kappa = np.broadcast_to(self.concentration._data.astype(np.float64), shape)
        tau = 1 + np.sqrt(1 + 4 * kappa ** 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = (tau - np.sqrt(2 * tau)) / (2 * kappa)
            r = np.where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho ** 2) / (2 * rho))
        x = np.zeros(shape)
        done = np.zeros(shape, bool)
        while not done.all():
            u1, u2, u3 = gen.random((3,) + shape)
            z = np.cos(math.pi * u1)
            f = (1 + r * z) / (r + z)
            c = kappa * (r - f)
            with np.errstate(divide="ignore", invalid="ignore"):
                accept = ((c * (2 - c) - u2) > 0) | (np.log(c / u2) + 1 - c >= 0)
            new = accept & ~done
            x = np.where(new, np.sign(u3 - 0.5) * np.arccos(np.clip(f, -1, 1)), x)
            done |= accept
        out = (x + math.pi + loc) % (2 * math.pi) - math.pi
        return wrap(out.astype(self.loc._data.dtype))

    @property
    def mean(self):
        """The circular mean (``loc``)."""
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        """The circular variance ``1 - I1(k) / I0(k)``."""
        k = self.concentration
        return 1 - (_log_i1(k) - _log_i0(k)).exp()
