"""fit_exponent recovers known exponents; its interval covers at about the nominal rate."""
import numpy as np
import pytest

import verify
from verify.lyapunov import decrease_summary, positive_part_sum


@pytest.mark.parametrize("exponent", [-1.0, -0.5, 0.25])
def test_fit_recovers_exponent(exponent):
    rng = np.random.default_rng(7)
    sizes = np.array([100, 300, 1000, 3000, 10000.0])
    values = 3.0 * sizes[:, None] ** exponent * np.exp(0.1 * rng.standard_normal((5, 12)))
    fit = verify.fit_exponent(sizes, values, seed=1)
    assert abs(fit.slope - exponent) < 0.05
    assert fit.ci[0] < fit.slope < fit.ci[1]
    assert fit.per_seed.shape == (12,)
    np.testing.assert_allclose(fit.predict(sizes), 3.0 * sizes ** exponent, rtol=0.2)


def test_fit_coverage_is_about_nominal():
    rng = np.random.default_rng(11)
    sizes = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    hits, trials = 0, 300
    for t in range(trials):
        values = sizes[:, None] ** -0.5 * np.exp(0.3 * rng.standard_normal((5, 20)))
        lo, hi = verify.fit_exponent(sizes, values, n_boot=500, seed=t).ci
        hits += lo <= -0.5 <= hi
    assert 0.88 <= hits / trials <= 0.99, hits / trials


def test_fit_rejects_bad_values():
    with pytest.raises(ValueError, match="positive"):
        verify.fit_exponent([1, 2], [[1.0], [0.0]])
    with pytest.raises(ValueError, match="distinct"):
        verify.fit_exponent([1, 1], [[1.0], [2.0]])


def test_mc_helpers():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(400) + 2.0
    assert abs(verify.standard_error(x) - x.std(ddof=1) / 20) < 1e-15
    r = verify.mean_ci(x)
    assert r.ci[0] < 2.0 < r.ci[1] and r.n == 400
    b = verify.bootstrap(x, np.mean, seed=0)
    assert abs(b.standard_error - r.standard_error) < 0.2 * r.standard_error
    # the Student-t interval covers the true mean at about its nominal level, even for n = 10
    # (binomial sd of the coverage over 1000 draws: 0.007)
    covered = [verify.mean_ci(sample, level=0.9).ci for sample in rng.standard_normal((1000, 10)) + 1.5]
    coverage = np.mean([lo <= 1.5 <= hi for lo, hi in covered])
    assert 0.87 <= coverage <= 0.93, coverage
    # and a normal interval (z instead of t) would under-cover: the t quantile matters at n = 10
    assert verify.mean_ci(np.arange(10.0), level=0.9).ci[1] - 4.5 > 1.645 * verify.standard_error(np.arange(10.0))
    # bootstrap: percentile interval of the mean covers the truth at about the nominal rate
    boot_cov = np.mean([(lambda r: r.ci[0] <= 0.0 <= r.ci[1])(verify.bootstrap(x, np.mean, n_boot=400, seed=i))
                        for i, x in enumerate(rng.standard_normal((200, 40)))])
    assert 0.88 <= boot_cov <= 0.99, boot_cov


def test_lyapunov_helpers():
    H = np.array([5.0, 3.0, 3.5, 1.0, 0.0])
    assert float(positive_part_sum(H)) == 0.5
    s = decrease_summary(H)
    assert (s.positive_sum, s.total_decrease, s.fraction) == (0.5, 5.0, 0.1)
    s = decrease_summary(np.stack([H, H[::-1]], axis=1), burn_in=1)
    assert s.fraction[0] == 0.5 / 3.0 and s.fraction[1] == np.inf
    assert np.array_equal(verify.increments(H), np.diff(H))


def test_framework_lyapunov_along_trace():
    import stochopt

    class Q:
        n_samples, dim, x0 = 1, 2, np.array([1.0, -1.0])

        def value(self, x):
            return 0.5 * np.sum(x * x, axis=-1)

        def oracle(self, x, idx):
            return x.copy()

    rec = verify.MomentumRecorder()
    tau, eta = 1.0, 0.05
    tr = stochopt.run(stochopt.heavy_ball(lr=eta, momentum=1 - tau * eta), Q(), steps=400, record_every=5,
                      callbacks=[rec])
    H = verify.values_along(verify.framework_lyapunov(Q(), "identity", tau), tr, rec.array(tr))
    s = decrease_summary(H[:, 0])
    assert s.total_decrease > 0.9 and s.fraction < 0.05
