"""``ember.distributions``: probability distributions with PyTorch's API.

Samples come from ember's default generator, so ``ember.manual_seed`` makes them
reproducible (not bit-identical to PyTorch's streams).
"""

from ember.distributions import constraints, transforms  # noqa: F401
from ember.distributions.binomial import Binomial, Geometric, Multinomial, NegativeBinomial
from ember.distributions.categorical import (Bernoulli, Categorical, OneHotCategorical,
                                             OneHotCategoricalStraightThrough)
from ember.distributions.cauchy import Cauchy, Chi2, FisherSnedecor, StudentT
from ember.distributions.continuous_bernoulli import ContinuousBernoulli
from ember.distributions.distribution import Distribution
from ember.distributions.exp_family import ExponentialFamily
from ember.distributions.gamma import Beta, Dirichlet, Gamma, Poisson
from ember.distributions.generalized_pareto import GeneralizedPareto
from ember.distributions.kl import kl_divergence, register_kl
from ember.distributions.lowrank_multivariate_normal import LowRankMultivariateNormal
from ember.distributions.mixture_same_family import MixtureSameFamily
from ember.distributions.multivariate_normal import Independent, MultivariateNormal
from ember.distributions.normal import Exponential, Laplace, Normal, Uniform
from ember.distributions.relaxed import RelaxedBernoulli, RelaxedOneHotCategorical
from ember.distributions.transformed_distribution import (Gumbel, HalfCauchy, HalfNormal,
                                                          LogNormal, TransformedDistribution)
from ember.distributions.transformed_families import (InverseGamma, Kumaraswamy,
                                                      LogisticNormal, Pareto, Weibull)
from ember.distributions.von_mises import VonMises
from ember.distributions.wishart import LKJCholesky, Wishart
from ember.distributions.transforms import (AbsTransform, AffineTransform, CatTransform,
                                            ComposeTransform, CorrCholeskyTransform,
                                            CumulativeDistributionTransform, ExpTransform,
                                            IndependentTransform, LowerCholeskyTransform,
                                            PositiveDefiniteTransform, PowerTransform,
                                            ReshapeTransform, SigmoidTransform,
                                            SoftmaxTransform, SoftplusTransform,
                                            StackTransform, StickBreakingTransform,
                                            TanhTransform, Transform, biject_to,
                                            identity_transform, transform_to)

__all__ = ["Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "Dirichlet",
           "Distribution", "Exponential", "Gamma", "Geometric", "Gumbel", "HalfCauchy",
           "HalfNormal", "Independent", "Laplace", "LogNormal", "LowRankMultivariateNormal",
           "MixtureSameFamily", "Multinomial", "MultivariateNormal", "NegativeBinomial",
           "Normal", "OneHotCategorical", "Poisson", "RelaxedBernoulli",
           "RelaxedOneHotCategorical", "StudentT", "TransformedDistribution", "Uniform",
           "ContinuousBernoulli", "ExponentialFamily", "FisherSnedecor", "GeneralizedPareto",
           "InverseGamma", "Kumaraswamy", "LogisticNormal", "OneHotCategoricalStraightThrough",
           "Pareto", "VonMises", "Weibull", "LKJCholesky", "Wishart",
           "biject_to", "kl_divergence", "register_kl", "transform_to",
           "AbsTransform", "AffineTransform", "CatTransform", "ComposeTransform",
           "CorrCholeskyTransform", "CumulativeDistributionTransform", "ExpTransform",
           "IndependentTransform", "LowerCholeskyTransform", "PositiveDefiniteTransform",
           "PowerTransform", "ReshapeTransform", "SigmoidTransform", "SoftplusTransform",
           "TanhTransform", "SoftmaxTransform", "StackTransform", "StickBreakingTransform",
           "Transform", "identity_transform", "constraints", "transforms"]
