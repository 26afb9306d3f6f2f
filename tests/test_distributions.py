"""ember.distributions: log_prob/entropy/cdf against SciPy, samples checked statistically,
reparameterised gradients, KL divergences (closed form vs Monte Carlo and vs PyTorch),
shapes, validation errors."""

import math

import numpy as np
import pytest

import ember
import ember.distributions as D
from ember.autograd import gradcheck, gradgradcheck

stats = pytest.importorskip("scipy.stats")
special = pytest.importorskip("scipy.special")

try:
    import torch
except ImportError:  # the oracle is optional
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch oracle not installed")
N = 20000  # samples for the statistical checks


def t(x, grad=False):
    return ember.tensor(np.asarray(x, dtype=np.float64), requires_grad=grad)


def close(e, ref, rtol=1e-7, atol=1e-9):
    e = e.detach().numpy() if isinstance(e, ember.Tensor) else e
    np.testing.assert_allclose(e, ref, rtol=rtol, atol=atol)


# ------------------------------------------------------------------ cases
# name -> (ember constructor, scipy frozen distribution, support points, has entropy)
LOC, SCALE = np.array([0.5, -1.0]), np.array([1.5, 0.7])
RATE = np.array([0.5, 2.0])
A, B = np.array([2.0, 0.7]), np.array([3.0, 1.5])


def cases():
    return {
        "normal": (lambda: D.Normal(t(LOC), t(SCALE)), stats.norm(LOC, SCALE),
                   np.array([[0.3, -2.0], [1.0, 0.1]])),
        "laplace": (lambda: D.Laplace(t(LOC), t(SCALE)), stats.laplace(LOC, SCALE),
                    np.array([[0.3, -2.0], [1.0, 0.1]])),
        "exponential": (lambda: D.Exponential(t(RATE)), stats.expon(scale=1 / RATE),
                        np.array([[0.3, 2.0], [1.0, 0.1]])),
        "uniform": (lambda: D.Uniform(t([0.0, -1.0]), t([2.0, 3.0])),
                    stats.uniform([0.0, -1.0], [2.0, 4.0]), np.array([[0.3, -0.5], [1.9, 2.9]])),
        "gamma": (lambda: D.Gamma(t(A), t(RATE)), stats.gamma(A, scale=1 / RATE),
                  np.array([[0.3, 2.0], [1.0, 0.1]])),
        "beta": (lambda: D.Beta(t(A), t(B)), stats.beta(A, B),
                 np.array([[0.3, 0.9], [0.5, 0.05]])),
        "poisson": (lambda: D.Poisson(t([0.5, 4.0])), stats.poisson([0.5, 4.0]),
                    np.array([[0.0, 3.0], [2.0, 7.0]])),
        "bernoulli": (lambda: D.Bernoulli(probs=t([0.2, 0.7])), stats.bernoulli([0.2, 0.7]),
                      np.array([[0.0, 1.0], [1.0, 0.0]])),
    }


CONT = ["normal", "laplace", "exponential", "uniform", "gamma", "beta"]
ALL = CONT + ["poisson", "bernoulli"]


@pytest.mark.parametrize("name", ALL)
def test_log_prob_entropy_moments_against_scipy(name):
    make, ref, pts = cases()[name]
    d = make()
    assert tuple(d.batch_shape) == (2,) and tuple(d.event_shape) == ()
    lp = ref.logpdf(pts) if name in CONT else ref.logpmf(pts)
    close(d.log_prob(t(pts)), lp)
    close(d.mean, ref.mean())
    close(d.variance, ref.var())
    close(d.stddev, ref.std())
    if name != "poisson":  # PyTorch has no Poisson entropy either
        close(d.entropy(), ref.entropy())


@pytest.mark.parametrize("name", ["normal", "laplace", "exponential", "uniform"])
def test_cdf_icdf_against_scipy(name):
    make, ref, pts = cases()[name]
    d = make()
    close(d.cdf(t(pts)), ref.cdf(pts))
    q = np.array([[0.1, 0.5], [0.9, 0.3]])
    close(d.icdf(t(q)), ref.ppf(q))


def test_gamma_cdf():
    d = D.Gamma(t(A), t(RATE))
    close(d.cdf(t([0.5, 1.5])), stats.gamma(A, scale=1 / RATE).cdf([0.5, 1.5]))


@pytest.mark.parametrize("name", ALL)
def test_samples_match_moments(name):
    make, ref, _ = cases()[name]
    ember.manual_seed(1234)
    s = make().sample((N,))
    assert tuple(s.shape) == (N, 2) and s.dtype is ember.float64
    x = s.numpy()
    # mean within 5 standard errors; variance within 5 SE of the sample variance
    se = np.sqrt(ref.var() / N)
    assert np.all(np.abs(x.mean(0) - ref.mean()) < 5 * se), (x.mean(0), ref.mean())
    m4 = ref.moment(4) - 4 * ref.mean() * ref.moment(3) + 6 * ref.mean() ** 2 * ref.moment(2) \
        - 3 * ref.mean() ** 4
    se_var = np.sqrt(np.maximum(m4 - ref.var() ** 2, 1e-12) / N)
    assert np.all(np.abs(x.var(0) - ref.var()) < 5 * se_var + 1e-12)
    assert bool(make().support.check(s).all())


def test_manual_seed_makes_samples_reproducible():
    d = D.Normal(t(LOC), t(SCALE))
    ember.manual_seed(7)
    a = d.sample((5,))
    ember.manual_seed(7)
    b = d.sample((5,))
    assert np.array_equal(a.numpy(), b.numpy())
    ember.manual_seed(7)
    c = D.Categorical(logits=t([0.0, 1.0, 2.0])).sample((5,))
    ember.manual_seed(7)
    assert np.array_equal(c.numpy(), D.Categorical(logits=t([0.0, 1.0, 2.0])).sample((5,)).numpy())


# ------------------------------------------------------------------ multivariate
def test_categorical_and_onehot():
    p = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])
    d = D.Categorical(probs=t(p))
    assert tuple(d.batch_shape) == (2,) and tuple(d.event_shape) == ()
    close(d.log_prob(t([2, 0]).long()), np.log([0.5, 0.6]))
    close(d.entropy(), -(p * np.log(p)).sum(-1))
    dl = D.Categorical(logits=t(np.log(p) + 3.0))
    close(dl.probs, p)
    ember.manual_seed(0)
    s = d.sample((N,)).numpy()
    assert s.dtype == np.int64
    for b in range(2):
        freq = np.bincount(s[:, b], minlength=3) / N
        assert np.all(np.abs(freq - p[b]) < 5 * np.sqrt(p[b] * (1 - p[b]) / N))
    assert tuple(d.enumerate_support().shape) == (3, 2)
    oh = D.OneHotCategorical(probs=t(p))
    assert tuple(oh.event_shape) == (3,)
    v = oh.sample((4,))
    assert tuple(v.shape) == (4, 2, 3) and np.all(v.numpy().sum(-1) == 1)
    close(oh.log_prob(t([[0, 0, 1], [1, 0, 0]])), np.log([0.5, 0.6]))
    close(oh.entropy(), d.entropy().numpy())
    close(oh.variance, p * (1 - p))


def test_dirichlet():
    c = np.array([[1.5, 2.0, 0.7], [3.0, 1.0, 2.0]])
    d = D.Dirichlet(t(c))
    assert tuple(d.batch_shape) == (2,) and tuple(d.event_shape) == (3,)
    x = np.array([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    close(d.log_prob(t(x)), [stats.dirichlet(c[i]).logpdf(x[i]) for i in range(2)])
    close(d.entropy(), [stats.dirichlet(c[i]).entropy() for i in range(2)])
    close(d.mean, c / c.sum(-1, keepdims=True))
    close(d.variance, [stats.dirichlet(c[i]).var() for i in range(2)])
    ember.manual_seed(3)
    s = d.sample((N,)).numpy()
    np.testing.assert_allclose(s.sum(-1), 1, rtol=1e-12)
    se = np.sqrt(d.variance.numpy() / N)
    assert np.all(np.abs(s.mean(0) - d.mean.numpy()) < 5 * se)


def test_multivariate_normal_three_parameterisations():
    loc = np.array([1.0, -0.5, 0.2])
    L = np.array([[1.2, 0, 0], [0.3, 0.8, 0], [-0.4, 0.2, 0.5]])
    cov = L @ L.T
    ref = stats.multivariate_normal(loc, cov)
    x = np.array([[0.0, 0.0, 0.0], [1.0, -1.0, 0.5]])
    for kw in ({"covariance_matrix": t(cov)}, {"precision_matrix": t(np.linalg.inv(cov))},
               {"scale_tril": t(L)}):
        d = D.MultivariateNormal(t(loc), **kw)
        close(d.log_prob(t(x)), ref.logpdf(x))
        close(d.entropy(), ref.entropy())
        close(d.covariance_matrix, cov)
        close(d.precision_matrix, np.linalg.inv(cov))
        close(d.scale_tril, L)
        close(d.variance, np.diag(cov))
    ember.manual_seed(5)
    s = D.MultivariateNormal(t(loc), scale_tril=t(L)).sample((N,)).numpy()
    assert np.all(np.abs(s.mean(0) - loc) < 5 * np.sqrt(np.diag(cov) / N))
    np.testing.assert_allclose(np.cov(s.T), cov, atol=0.05)
    # batched: loc (2, 3) with one shared covariance
    d = D.MultivariateNormal(t(np.stack([loc, -loc])), covariance_matrix=t(cov))
    assert tuple(d.batch_shape) == (2,) and tuple(d.event_shape) == (3,)
    close(d.log_prob(t(x)), [ref.logpdf(x[0]), stats.multivariate_normal(-loc, cov).logpdf(x[1])])
    assert tuple(d.rsample((4,)).shape) == (4, 2, 3)


def test_independent_and_expand():
    base = D.Normal(t(np.zeros((2, 3))), t(np.ones((2, 3))))
    ind = D.Independent(base, 1)
    assert tuple(ind.batch_shape) == (2,) and tuple(ind.event_shape) == (3,)
    x = np.random.default_rng(0).standard_normal((2, 3))
    close(ind.log_prob(t(x)), stats.norm().logpdf(x).sum(-1))
    close(ind.entropy(), np.full(2, 3 * stats.norm().entropy()))
    assert ind.has_rsample
    e = D.Normal(t(0.0), t(1.0)).expand((4, 2))
    assert tuple(e.batch_shape) == (4, 2) and tuple(e.sample().shape) == (4, 2)
    assert tuple(D.Independent(base, 2).expand(()).event_shape) == (2, 3)
    assert tuple(D.Categorical(logits=t([0.0, 1.0])).expand((5,)).sample().shape) == (5,)
    assert tuple(D.Dirichlet(t([1.0, 2.0])).expand((3,)).sample().shape) == (3, 2)
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        D.Independent(base, 3)


# ------------------------------------------------------------------ gradients
def test_rsample_gradients():
    loc, scale = t([0.5], True), t([2.0], True)
    ember.manual_seed(0)
    x = D.Normal(loc, scale).rsample((N,))
    x.mean().backward()
    close(loc.grad, [1.0])
    assert abs(scale.grad.item()) < 5 * 1 / math.sqrt(N)  # d E[x] / d scale = 0
    rate = t([2.0], True)
    D.Exponential(rate).rsample((N,)).mean().backward()
    assert abs(rate.grad.item() - (-1 / 4)) < 0.02  # d(1/rate)/d rate
    # implicit reparameterisation: d E[x] / d alpha = 1 / rate for Gamma
    a = t([2.0, 0.5], True)
    ember.manual_seed(1)
    D.Gamma(a, t([2.0, 2.0])).rsample((N,)).mean(0).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.5, 0.5], atol=0.02)
    c = t([1.0, 2.0, 3.0], True)
    D.Dirichlet(c).rsample((N,))[:, 0].mean().backward()
    # d/dc0 of c0 / sum(c) = (sum - c0) / sum^2
    np.testing.assert_allclose(c.grad.numpy(), [5 / 36, -1 / 36, -1 / 36], atol=0.01)
    L = t(np.array([[1.0, 0.0], [0.5, 1.0]]), True)
    D.MultivariateNormal(t([0.0, 0.0]), scale_tril=L).rsample((N,)).pow(2).mean(0).sum() \
        .backward()
    # E[x^T x] = ||L||_F^2  =>  gradient 2 L (lower triangle)
    np.testing.assert_allclose(L.grad.numpy(), 2 * np.tril(L.detach().numpy()), atol=0.06)


def test_gradcheck_log_prob_entropy():
    x = t([0.3, 1.2])
    assert gradcheck(lambda m, s: D.Normal(m, s).log_prob(x), [t(LOC, True), t(SCALE, True)])
    assert gradcheck(lambda a, b: D.Gamma(a, b).log_prob(x), [t(A, True), t(RATE, True)])
    assert gradcheck(lambda a, b: D.Beta(a, b).entropy(), [t(A, True), t(B, True)])
    assert gradgradcheck(lambda a, b: D.Beta(a, b).entropy(), [t(A, True), t(B, True)])
    assert gradcheck(lambda c: D.Dirichlet(c).entropy(), [t([1.5, 2.0, 0.7], True)])
    # (finite differences perturb the zero upper entry: skip validation there)
    assert gradcheck(lambda m, l: D.MultivariateNormal(m, scale_tril=l, validate_args=False)
                     .log_prob(t([0.1, 0.2])),
                     [t([0.5, -0.5], True), t([[1.0, 0.0], [0.3, 0.8]], True)])
    assert gradcheck(lambda c: D.MultivariateNormal(t([0.0, 0.0]), covariance_matrix=(
        c @ c.mT + ember.eye(2, dtype=ember.float64))).log_prob(t([0.1, 0.2])),
        [t([[1.0, 0.2], [0.3, 0.8]], True)])
    assert gradcheck(lambda lg: D.Categorical(logits=lg).log_prob(t([0, 2]).long()),
                     [t([[0.1, 0.5, -0.3], [1.0, 0.0, 0.2]], True)])
    assert gradcheck(lambda lg: D.Bernoulli(logits=lg).entropy(), [t([0.1, -2.0], True)])


def test_special_functions():
    from ember.distributions import _special as S

    x = np.array([0.1, 0.5, 1.0, 3.7, 25.0])
    close(S.digamma(t(x)), special.digamma(x), rtol=1e-12)
    for n in (1, 2, 3):
        close(S.polygamma(n, t(x)), special.polygamma(n, x), rtol=1e-12)
    close(S.lgamma(t(x)), special.gammaln(x), rtol=1e-12)
    assert gradgradcheck(S.lgamma, [t([0.7, 2.5], True)])
    assert gradgradcheck(S.digamma, [t([0.7, 2.5], True)])
    close(S.digamma(t([-0.5, -2.5])), special.digamma([-0.5, -2.5]), rtol=1e-10)


# ------------------------------------------------------------------ KL
def kl_pairs():
    rng = np.random.default_rng(0)
    p4 = rng.dirichlet(np.ones(4), 2)
    q4 = rng.dirichlet(np.ones(4), 2)
    L1 = np.array([[1.0, 0.0], [0.4, 0.7]])
    L2 = np.array([[0.8, 0.0], [-0.2, 1.1]])
    return {
        "normal": (lambda L: L.distributions.Normal(T(L, [0.0, 1.0]), T(L, [1.0, 0.5])),
                   lambda L: L.distributions.Normal(T(L, [0.5, 0.0]), T(L, [2.0, 0.7]))),
        "bernoulli": (lambda L: L.distributions.Bernoulli(probs=T(L, [0.2, 0.9])),
                      lambda L: L.distributions.Bernoulli(probs=T(L, [0.5, 0.6]))),
        "categorical": (lambda L: L.distributions.Categorical(probs=T(L, p4)),
                        lambda L: L.distributions.Categorical(probs=T(L, q4))),
        "onehot": (lambda L: L.distributions.OneHotCategorical(probs=T(L, p4)),
                   lambda L: L.distributions.OneHotCategorical(probs=T(L, q4))),
        "mvn": (lambda L: L.distributions.MultivariateNormal(T(L, [0.0, 1.0]),
                                                             scale_tril=T(L, L1)),
                lambda L: L.distributions.MultivariateNormal(T(L, [0.5, 0.0]),
                                                             scale_tril=T(L, L2))),
        "uniform": (lambda L: L.distributions.Uniform(T(L, [0.0, 0.5]), T(L, [1.0, 1.0])),
                    lambda L: L.distributions.Uniform(T(L, [-1.0, 0.0]), T(L, [2.0, 3.0]))),
        "exponential": (lambda L: L.distributions.Exponential(T(L, [1.0, 0.5])),
                        lambda L: L.distributions.Exponential(T(L, [2.0, 0.4]))),
        "gamma": (lambda L: L.distributions.Gamma(T(L, [2.0, 0.8]), T(L, [1.0, 2.0])),
                  lambda L: L.distributions.Gamma(T(L, [1.5, 1.2]), T(L, [0.5, 1.0]))),
        "beta": (lambda L: L.distributions.Beta(T(L, [2.0, 0.8]), T(L, [1.0, 2.0])),
                 lambda L: L.distributions.Beta(T(L, [1.5, 1.2]), T(L, [0.5, 1.0]))),
        "dirichlet": (lambda L: L.distributions.Dirichlet(T(L, [[1.0, 2.0, 3.0]])),
                      lambda L: L.distributions.Dirichlet(T(L, [[2.0, 2.0, 0.5]]))),
        "laplace": (lambda L: L.distributions.Laplace(T(L, [0.0, 1.0]), T(L, [1.0, 0.5])),
                    lambda L: L.distributions.Laplace(T(L, [0.5, 0.0]), T(L, [2.0, 0.7]))),
        "poisson": (lambda L: L.distributions.Poisson(T(L, [1.0, 4.0])),
                    lambda L: L.distributions.Poisson(T(L, [2.0, 3.0]))),
        "independent": (lambda L: L.distributions.Independent(L.distributions.Normal(
            T(L, [0.0, 1.0]), T(L, [1.0, 0.5])), 1),
            lambda L: L.distributions.Independent(L.distributions.Normal(
                T(L, [0.5, 0.0]), T(L, [2.0, 0.7])), 1)),
    }


def T(lib, x):
    return lib.tensor(np.asarray(x, dtype=np.float64))


@pytest.mark.parametrize("pair", list(kl_pairs()))
def test_kl_against_monte_carlo(pair):
    mp, mq = kl_pairs()[pair]
    p, q = mp(ember), mq(ember)
    kl = D.kl_divergence(p, q).numpy()
    ember.manual_seed(11)
    s = p.sample((N,))
    diff = (p.log_prob(s) - q.log_prob(s)).numpy()
    se = diff.std(0) / np.sqrt(N)
    assert np.all(np.abs(diff.mean(0) - kl) < 5 * se + 1e-9), (diff.mean(0), kl)


@needs_torch
@pytest.mark.parametrize("pair", list(kl_pairs()))
def test_kl_against_torch(pair):
    mp, mq = kl_pairs()[pair]
    close(D.kl_divergence(mp(ember), mq(ember)),
          torch.distributions.kl_divergence(mp(torch), mq(torch)).numpy())


def test_kl_registry():
    class MyNormal(D.Normal):
        pass

    # subclasses dispatch to the closest registered pair
    close(D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 1.0)), 0.0)
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Poisson(1.0))

    @D.register_kl(MyNormal, MyNormal)
    def _kl(p, q):
        return ember.tensor(42.0)

    assert D.kl_divergence(MyNormal(0.0, 1.0), MyNormal(0.0, 1.0)).item() == 42.0
    with pytest.raises(TypeError):
        D.register_kl(int, D.Normal)


@needs_torch
def test_log_prob_and_grads_against_torch():
    x = np.array([[0.3, 0.9], [0.5, 0.05]])
    specs = [
        ("Normal", [LOC, SCALE], x),
        ("Laplace", [LOC, SCALE], x),
        ("Gamma", [A, RATE], x),
        ("Beta", [A, B], x),
        ("Exponential", [RATE], x),
    ]
    for name, params, val in specs:
        pe = [t(p, True) for p in params]
        pt = [torch.tensor(p, requires_grad=True) for p in params]
        de, dt = getattr(D, name)(*pe), getattr(torch.distributions, name)(*pt)
        le = de.log_prob(t(val)).sum() + de.entropy().sum()
        lt = dt.log_prob(torch.tensor(val)).sum() + dt.entropy().sum()
        close(le, lt.detach().numpy())
        le.backward()
        lt.backward()
        for a, b in zip(pe, pt):
            close(a.grad, b.grad.numpy())


# ------------------------------------------------------------------ validation
def test_validation_errors():
    with pytest.raises(ValueError, match=r"Expected parameter scale \(Tensor of shape \(2,\)\) "
                       r"of distribution Normal\(loc: torch.Size\(\[2\]\), scale: "
                       r"torch.Size\(\[2\]\)\) to satisfy the constraint "
                       r"GreaterThan\(lower_bound=0.0\), but found invalid values"):
        D.Normal(t([0.0, 0.0]), t([1.0, -1.0]))
    with pytest.raises(ValueError, match="Uniform is not defined when low>= high"):
        D.Uniform(1.0, 0.0)
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified"):
        D.Bernoulli(probs=0.5, logits=0.0)
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix"):
        D.MultivariateNormal(t([0.0]))
    with pytest.raises(ValueError, match=r"to be within the support \(GreaterThanEq"):
        D.Exponential(1.0).log_prob(t(-1.0))
    with pytest.raises(ValueError, match="The right-most size of value must match event_shape"):
        D.Dirichlet(t([1.0, 1.0])).log_prob(t([0.2, 0.3, 0.5]))
    with pytest.raises(ValueError, match="Value is not broadcastable"):
        D.Normal(t([0.0, 0.0]), t([1.0, 1.0])).log_prob(t([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="positive_definite|PositiveDefinite"):
        D.MultivariateNormal(t([0.0, 0.0]), covariance_matrix=t([[1.0, 2.0], [2.0, 1.0]]))
    # validate_args=False skips the checks
    d = D.Normal(t([0.0]), t([-1.0]), validate_args=False)
    assert tuple(d.batch_shape) == (1,)
    assert D.Exponential(1.0, validate_args=False).log_prob(t(-1.0)).item() == 1.0


def test_constraints_and_transforms():
    from ember.distributions import constraints as C
    from ember.distributions import transforms as Tr

    assert repr(C.positive) == "GreaterThan(lower_bound=0.0)"
    assert repr(C.unit_interval) == "Interval(lower_bound=0.0, upper_bound=1.0)"
    assert C.simplex.check(t([0.2, 0.8])).item()
    assert not C.simplex.check(t([0.2, 0.9])).item()
    assert C.lower_cholesky.check(t([[1.0, 0.0], [2.0, 1.0]])).item()
    assert C.positive_definite.check(t([[2.0, 1.0], [1.0, 2.0]])).item()
    assert C.is_dependent(C.dependent) and not C.is_dependent(C.real)
    x = t([-1.0, 0.5, 2.0])
    for c, lo, hi in ((C.positive, 0, np.inf), (C.unit_interval, 0, 1),
                      (C.greater_than(2.0), 2, np.inf), (C.interval(-1.0, 3.0), -1, 3)):
        tr = Tr.biject_to(c)
        y = tr(x)
        assert np.all((y.numpy() > lo) & (y.numpy() < hi))
        close(tr.inv(y), x.numpy())
    for tr in (Tr.ExpTransform(), Tr.SigmoidTransform(), Tr.TanhTransform(),
               Tr.AffineTransform(1.0, 3.0), Tr.SoftplusTransform()):
        xs = t([0.3], True)
        y = tr(xs)
        (g,) = ember.autograd.grad(y.sum(), xs)
        close(tr.log_abs_det_jacobian(xs, y), np.log(np.abs(g.numpy())))
