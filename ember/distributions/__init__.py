"""``ember.distributions``: probability distributions with PyTorch's API.

Samples come from ember's default generator, so ``ember.manual_seed`` makes them
reproducible (not bit-identical to PyTorch's streams).
"""

from ember.distributions import constraints, transforms  # noqa: F401
from ember.distributions.categorical import Bernoulli, Categorical, OneHotCategorical
from ember.distributions.distribution import Distribution
from ember.distributions.gamma import Beta, Dirichlet, Gamma, Poisson
from ember.distributions.kl import kl_divergence, register_kl
from ember.distributions.multivariate_normal import Independent, MultivariateNormal
from ember.distributions.normal import Exponential, Laplace, Normal, Uniform

__all__ = ["Bernoulli", "Beta", "Categorical", "Dirichlet", "Distribution", "Exponential",
           "Gamma", "Independent", "Laplace", "MultivariateNormal", "Normal",
           "OneHotCategorical", "Poisson", "Uniform", "constraints", "kl_divergence",
           "register_kl", "transforms"]
