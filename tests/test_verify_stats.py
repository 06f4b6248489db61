"""fit_exponent recovers known exponents; its interval covers at about the nominal rate."""
import numpy as np
import pytest

import verify
from verify import stats
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


# ---------------------------------------------- slopes over replicas, medians, binomial bounds
def test_log_slope_recovers_a_known_exponent():
    rng = np.random.default_rng(0)
    sizes = np.array([100.0, 200.0, 400.0, 800.0, 1600.0])
    values = sizes[:, None] ** -0.75 * np.exp(0.05 * rng.standard_normal((5, 32)))
    fit = stats.log_slope(sizes, values)
    assert fit.ci[0] < -0.75 < fit.ci[1]
    assert abs(fit.slope + 0.75) < 0.05
    for center in ("median", "geomean"):
        assert abs(stats.log_slope(sizes, values, center=center).slope + 0.75) < 0.05


def test_log_slope_flat_values_give_slope_near_zero_and_drops_diverged_replicas():
    values = np.ones((4, 8))
    values[:, 3] = np.nan
    fit = stats.log_slope([1.0, 2.0, 4.0, 8.0], values)
    assert fit.slope == pytest.approx(0.0, abs=1e-12)
    assert fit.ci == pytest.approx((0.0, 0.0), abs=1e-12)


def test_log_slope_rejects_unknown_center():
    with pytest.raises(ValueError, match="center"):
        stats.log_slope([1.0, 2.0], np.ones((2, 3)), center="mode")


def test_binomial_bounds_are_clopper_pearson():
    # zero successes in n: the one-sided 95% upper bound is 1 - 0.05^(1/n)
    assert stats.binomial_upper(0, 1000) == pytest.approx(1 - 0.05 ** (1 / 1000), rel=1e-9)
    assert stats.binomial_lower(1000, 1000) == pytest.approx(0.05 ** (1 / 1000), rel=1e-9)
    lo, hi = stats.binomial_lower(30, 100), stats.binomial_upper(30, 100)
    assert lo < 0.3 < hi


def test_geomean_and_median_intervals_contain_the_estimate():
    g, (lo, hi) = stats.geomean_ci(np.exp(np.linspace(-1, 1, 41)))
    assert g == pytest.approx(1.0) and lo <= 1.0 <= hi
    m, (lo, hi) = stats.median_ci(np.arange(41.0))
    assert m == 20.0 and lo <= 20.0 <= hi


def test_binomial_ci_is_the_two_sided_clopper_pearson_interval():
    lo, hi = stats.binomial_ci(0, 60)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 60), rel=1e-9)
    lo, hi = stats.binomial_ci(60, 60)
    assert hi == 1.0 and lo == pytest.approx(0.025 ** (1 / 60), rel=1e-9)
    with pytest.raises(ValueError, match="0 <= k <= n"):
        stats.binomial_ci(5, 3)
