"""``LKJCholesky`` (Cholesky factors of random correlation matrices) and ``Wishart``
(random positive-definite matrices): the matrix-valued families."""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

import ember
from ember import linalg
from ember._ops.core import wrap
from ember._tensor import Size
from ember.distributions import constraints
from ember.distributions._special import digamma, lgamma
from ember.distributions.cauchy import Chi2
from ember.distributions.distribution import Distribution
from ember.distributions.exp_family import ExponentialFamily
from ember.distributions.gamma import Beta
from ember.distributions.multivariate_normal import _precision_to_scale_tril
from ember.distributions.normal import _noise
from ember.distributions.utils import broadcast_all, lazy_property

__all__ = ["LKJCholesky", "Wishart"]

_LOG_2 = math.log(2.0)


def _mvlgamma(x, p):
    """Multivariate log-gamma: p(p-1)/4 log(pi) + sum_j lgamma(x - j/2)."""
    terms = x.unsqueeze(-1) - wrap(np.arange(p, dtype=x._data.dtype) / 2)
    return lgamma(terms).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)


def _mvdigamma(x, p):
    if not bool((x > (p - 1) / 2).all()):
        raise ValueError("Wrong domain for multivariate digamma function.")
    terms = x.unsqueeze(-1) - wrap(np.arange(p, dtype=x._data.dtype) / 2)
    return digamma(terms).sum(-1)


class LKJCholesky(Distribution):
    """LKJ distribution over Cholesky factors of ``dim x dim`` correlation matrices, with
    density proportional to ``det(L L^T)^(concentration - 1)``; sampled by the onion method
    (Lewandowski, Kurowicka and Joe 2009).

    Args:
        dim: the dimension.
        concentration: the concentration (shape) parameter, > 0.
        validate_args: check the parameters (and later the values passed to ``log_prob``)
            against their constraints (default: ``Distribution``'s global setting, on).

    Example::

        >>> L = LKJCholesky(3, 0.5).sample()
        >>> bool(ember.allclose((L @ L.mT).diagonal(), ember.ones(3)))
        True
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. "
                             f"Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = np.concatenate([[0.0], np.arange(dim - 1)]).astype(
            self.concentration._data.dtype)
        self._beta = Beta(wrap(offset + 0.5), marginal_conc.unsqueeze(-1) - 0.5 * wrap(offset))
        super().__init__(Size(self.concentration.shape), Size((dim, dim)),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(tuple(batch_shape) + (self.dim,))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=Size()):
        with ember.no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            shape = self._extended_shape(sample_shape)
            u = _noise(lambda g, s: g.standard_normal(s), shape, y).tril(-1)
            norm = u.norm(dim=-1, keepdim=True)
            # the first row has no off-diagonal part: its direction is empty
            u = (u / norm.masked_fill(norm == 0, 1.0))
            w = y.sqrt() * u
            tiny = float(np.finfo(w._data.dtype).tiny)
            diag = (1 - (w * w).sum(-1)).clamp(min=tiny).sqrt()
            return w + diag.diag_embed()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diag = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = wrap(np.arange(2, self.dim + 1).astype(value._data.dtype))
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized = (order * diag.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = lgamma(alpha) * dm1
        numerator = _mvlgamma(alpha - 0.5, dm1)
        normalize = 0.5 * dm1 * math.log(math.pi) + numerator - denominator
        return unnormalized - normalize


class Wishart(ExponentialFamily):
    """Wishart distribution over positive-definite matrices with ``df`` degrees of freedom
    and exactly one of ``covariance_matrix``, ``precision_matrix`` or ``scale_tril``;
    reparameterised by the Bartlett decomposition.

    Args:
        df: the degrees of freedom, > 0.
        covariance_matrix: the positive-definite covariance (give exactly one of the three
            matrix parameters).
        precision_matrix: the positive-definite precision (inverse covariance).
        scale_tril: the lower-triangular Cholesky factor of the covariance.
        validate_args: check the parameters (and later the values passed to ``log_prob``)
            against their constraints (default: ``Distribution``'s global setting, on).

    Example::

        >>> Wishart(ember.tensor(4.0), covariance_matrix=ember.eye(2)).mean
        tensor([[4., 0.],
                [0., 4.]])
    """

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self):
        return {"covariance_matrix": constraints.positive_definite,
                "precision_matrix": constraints.positive_definite,
                "scale_tril": constraints.lower_cholesky,
                "df": constraints.greater_than(self.event_shape[-1] - 1)}

    def __init__(self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if (covariance_matrix is not None) + (scale_tril is not None) + \
                (precision_matrix is not None) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        param = next(p for p in (covariance_matrix, precision_matrix, scale_tril)
                     if p is not None)
        if param.ndim < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if isinstance(df, numbers.Number):
            batch_shape = tuple(param.shape[:-2])
            self.df = ember.tensor(float(df), dtype=param.dtype)
        else:
            batch_shape = tuple(ember.broadcast_shapes(tuple(param.shape[:-2]),
                                                       tuple(df.shape)))
            self.df = df.expand(batch_shape)
        event_shape = tuple(param.shape[-2:])
        p = event_shape[-1]
        if bool((self.df <= p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        if scale_tril is not None:
            self.scale_tril = param.expand(batch_shape + (-1, -1))
        elif covariance_matrix is not None:
            self.covariance_matrix = param.expand(batch_shape + (-1, -1))
        else:
            self.precision_matrix = param.expand(batch_shape + (-1, -1))
        if bool((self.df < p).any()):
            warnings.warn("Low df values detected. Singular samples are highly likely to "
                          "occur for ndim - 1 < df < ndim.", stacklevel=2)
        super().__init__(Size(batch_shape), Size(event_shape), validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        self._dist_chi2 = self._chi2(batch_shape)

    def _chi2(self, batch_shape):
        # Bartlett: the squared diagonal of the factor is chi2(df - i), i = 0..p-1
        p = self._event_shape[-1]
        ar = wrap(np.arange(p, dtype=self._unbroadcasted_scale_tril._data.dtype))
        return Chi2(self.df.unsqueeze(-1) - ar.expand(tuple(batch_shape) + (p,)))

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = Size(batch_shape)
        cov_shape = tuple(batch_shape) + tuple(self.event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(cov_shape)
        new.df = self.df.expand(batch_shape)
        for k in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if k in self.__dict__:
                setattr(new, k, self.__dict__[k].expand(cov_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._dist_chi2 = new._chi2(batch_shape)
        new._validate_args = self._validate_args
        return new

    def _full(self, m):
        return m.expand(tuple(self._batch_shape) + tuple(self._event_shape))

    @lazy_property
    def scale_tril(self):
        return self._full(self._unbroadcasted_scale_tril)

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return self._full(L @ L.mT)

    @lazy_property
    def precision_matrix(self):
        L = self._unbroadcasted_scale_tril
        eye = ember.eye(self._event_shape[-1], dtype=L.dtype)
        return self._full(linalg._cholesky_solve(eye, L))

    def _df(self):
        return self.df.reshape(tuple(self._batch_shape) + (1, 1))

    @property
    def mean(self):
        return self._df() * self.covariance_matrix

    @property
    def mode(self):
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        factor = factor.masked_fill(factor <= 0, math.nan)
        return factor.reshape(tuple(self._batch_shape) + (1, 1)) * self.covariance_matrix

    @property
    def variance(self):
        V = self.covariance_matrix
        d = V.diagonal(dim1=-2, dim2=-1)
        return self._df() * (V.pow(2) + d.unsqueeze(-1) * d.unsqueeze(-2))

    def _bartlett_sampling(self, sample_shape=Size()):
        p = self._event_shape[-1]
        chi = self._dist_chi2.rsample(sample_shape).sqrt()
        eps = float(np.finfo(chi._data.dtype).eps)
        diag = chi.clamp(min=eps).diag_embed()
        shape = tuple(sample_shape) + tuple(self._batch_shape) + (p, p)
        lower = _noise(lambda g, s: g.standard_normal(s), shape, chi).tril(-1)
        chol = self._unbroadcasted_scale_tril @ (diag + lower)
        return chol @ chol.mT

    def rsample(self, sample_shape=Size(), max_try_correction=None):
        """A draw by the Bartlett decomposition; singular draws (possible when df < p) are
        redrawn up to ``max_try_correction`` (default 10) times."""
        sample_shape = Size(sample_shape)
        sample = self._bartlett_sampling(sample_shape)
        tries = 10 if max_try_correction is None else max_try_correction
        bad = ~self.support.check(sample)._data
        if bad.any():
            warnings.warn("Singular sample detected.", stacklevel=2)
        while bad.any() and tries > 0:
            redraw = self._bartlett_sampling(sample_shape)
            keep = wrap(bad[..., None, None])
            sample = ember.where(keep, redraw, sample)
            bad = bad & ~self.support.check(redraw)._data
            tries -= 1
        return sample

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        nu = self.df
        p = self._event_shape[-1]
        L = self._unbroadcasted_scale_tril
        return (-nu * (p * _LOG_2 / 2 + L.diagonal(dim1=-2, dim2=-1).log().sum(-1))
                - _mvlgamma(nu / 2, p)
                + (nu - p - 1) / 2 * linalg.slogdet(value).logabsdet
                - linalg._cholesky_solve(value, L).diagonal(dim1=-2, dim2=-1).sum(-1) / 2)

    def entropy(self):
        nu = self.df
        p = self._event_shape[-1]
        L = self._unbroadcasted_scale_tril
        return ((p + 1) * (p * _LOG_2 / 2 + L.diagonal(dim1=-2, dim2=-1).log().sum(-1))
                + _mvlgamma(nu / 2, p) - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p)
                + nu * p / 2)

    @property
    def _natural_params(self):
        nu = self.df
        p = self._event_shape[-1]
        return -self.precision_matrix / 2, (nu - p - 1) / 2

    def _log_normalizer(self, x, y):
        p = self._event_shape[-1]
        return (y + (p + 1) / 2) * (-linalg.slogdet(-2 * x).logabsdet + _LOG_2 * p) + \
            _mvlgamma(y + (p + 1) / 2, p)


