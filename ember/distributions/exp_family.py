"""``ExponentialFamily``: densities ``p(x; theta) = h(x) exp(<t(x), theta> - F(theta))``,
whose entropy (and KL divergence within one family) follow from the log-normaliser F by
automatic differentiation (the Bregman divergence of F)."""

from __future__ import annotations

import ember
from ember.distributions.distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base class of exponential-family distributions.

    Subclasses define ``_natural_params`` (a tuple of tensors), ``_log_normalizer(*params)``
    and ``_mean_carrier_measure`` (``E[log h(X)]``); ``entropy`` is then
    ``F(theta) - <theta, grad F(theta)> - E[log h(X)]``.

    Args:
        batch_shape: the shape of the batch of distributions.
        event_shape: the shape of one sample.
        validate_args: check the parameters (and later the values passed to ``log_prob``)
            against their constraints (default: ``Distribution``'s global setting, on).

    Example::

        >>> from ember.distributions import ContinuousBernoulli
        >>> isinstance(ContinuousBernoulli(probs=ember.tensor(0.3)), ExponentialFamily)
        True
    """

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """Entropy through the gradient of the log-normaliser (differentiable)."""
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        with ember.enable_grad():
            lg_normal = self._log_normalizer(*nparams)
            gradients = ember.autograd.grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for p, g in zip(nparams, gradients):
            result = result - (p * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
