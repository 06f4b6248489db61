"""Planted mistakes caught by the flow side of the gsgd family (issues 13, 14).

Claims: gsgd.inclusion-tracking, gsgd.two-timescale, gsgd.single-timescale.lyapunov,
gsgd.value-convergence, gsgd.boundedness; and the integrator's known-answer tests. Each row names
the one part (or test) that catches it.
"""
import numpy as np

from planted import Planted

TRACKING = "gsgd.inclusion-tracking"


def _flow_on_the_wrong_clock(monkeypatch):
    from verify import inclusions

    original = inclusions._SingleTimescale.advance

    def twice(self, z, dt, rows, memo):  # the solution's clock runs at half speed: z(t) is reported at 2t
        z_new, taken = original(self, z, dt, rows, memo)
        return z_new, 2.0 * taken

    monkeypatch.setattr(inclusions._SingleTimescale, "advance", twice)


def _flow_tau_mismatched(monkeypatch):
    from verify import inclusions

    original = inclusions._SingleTimescale.__init__

    def doubled(self, problem, direction, tau, alpha, kink_accuracy):
        original(self, problem, direction, 2.0 * tau, alpha, kink_accuracy)

    monkeypatch.setattr(inclusions._SingleTimescale, "__init__", doubled)


def _ratio_not_vanishing(monkeypatch):
    from verify.families.gsgd import two_timescale

    original = two_timescale._schedules

    def same_power(spec, coupled):  # theta_k decays like eta_k: eta_k / theta_k is a constant
        return original(dict(spec, p_theta=spec["p_eta"]), coupled)

    monkeypatch.setattr(two_timescale, "_schedules", same_power)


def _identity_phi_doubled(monkeypatch):
    from stochopt import directions

    monkeypatch.setattr(directions.Identity, "phi", lambda self, m: np.sum(m * m, axis=-1))


def _segment_midpoint(monkeypatch):
    from verify import inclusions

    monkeypatch.setattr(inclusions, "segment_min_norm", lambda a, b: (0.5 * (a + b), np.full(a.shape[:-1], 0.5)))


def _polynomial_runs_constant(monkeypatch):
    from stochopt import schedules

    # both paths that run: one step (_value) and a block of steps (_block, the engine's fast path)
    monkeypatch.setattr(schedules.Polynomial, "_value",
                        lambda self, k: self.a / self.b ** self.p + 0.0 * np.asarray(k, dtype=float))
    original_block = schedules.Polynomial._block
    monkeypatch.setattr(schedules.Polynomial, "_block",
                        lambda self, ks, ids: original_block(self, 0 * np.asarray(ks), ids))


def _penalty_sign_flipped(monkeypatch):
    from verify.families.gsgd import boundedness

    # the oracle of f - lam ||x||_1 while the value is f + lam ||x||_1: the runs follow a non-coercive f
    monkeypatch.setattr(boundedness.Regularized, "_extra", lambda self, x: -self.lam * np.sign(x) - self.u)


def _sliding_test():
    from test_inclusions import test_sliding_mode_along_the_kink_of_two_planes

    test_sliding_mode_along_the_kink_of_two_planes(False, [1.0, 0.3])


def _sign_hull_without_sliding(monkeypatch):
    from verify import inclusions

    def side_entered(self, x, v, on, rows, memo):  # always the velocity of the g_hi side: no sliding combination
        b, on_b = self._velocity(memo["g_hi"][rows], memo["change"][rows], memo["sliding"][rows])
        return b, on_b, np.zeros(len(rows), bool)

    monkeypatch.setattr(inclusions._SignHull, "_kink_velocity", side_entered)


def _sign_hull_test():
    from test_inclusions import test_sign_flow_slides_on_a_tilted_kink_with_the_filippov_velocity

    test_sign_flow_slides_on_a_tilted_kink_with_the_filippov_velocity(x0=[1.0, 1.0], h=0.01)


ROWS = [
    Planted("gsgd-flow-on-the-wrong-clock",
            "the single-timescale integrator reports its solution at twice the time it reached (a wrong clock)",
            _flow_on_the_wrong_clock, f"{TRACKING}:deterministic steps on crescent"),
    Planted("gsgd-flow-tau-mismatched",
            "the single-timescale reference flow is built with 2 tau while the method runs with theta_k = tau eta_k",
            _flow_tau_mismatched, f"{TRACKING}:deterministic steps on crescent"),
    Planted("gsgd-two-timescale-ratio-constant",
            "the two-timescale schedules give theta_k the power of eta_k: eta_k / theta_k does not go to 0",
            _ratio_not_vanishing, "gsgd.two-timescale:fast variable tracks grad f"),
    Planted("gsgd-identity-phi-doubled",
            "the identity direction's phi is ||m||^2 instead of ||m||^2 / 2 (select(m) = m is no longer its gradient)",
            _identity_phi_doubled, "gsgd.single-timescale.lyapunov:crescent"),
    Planted("gsgd-sliding-velocity-midpoint",
            "the minimal-norm point of a segment is replaced by its midpoint (a sliding velocity off the kink)",
            _segment_midpoint, "tests/test_inclusions.py::test_sliding_mode_along_the_kink_of_two_planes",
            detector=_sliding_test),
    Planted("gsgd-sign-hull-drops-sliding",
            "signSGD's sign-hull flow drops its sliding mode: at a kink it always takes the velocity of the side it "
            "enters, never the combination of the two sides' -sign(g) tangent to the kink",
            _sign_hull_without_sliding,
            "tests/test_inclusions.py::test_sign_flow_slides_on_a_tilted_kink_with_the_filippov_velocity",
            detector=_sign_hull_test),
    Planted("gsgd-polynomial-runs-constant-value",
            "the executed polynomial schedule returns its k = 0 value at every k (a constant step that the claim's "
            "statement calls diminishing)",
            _polynomial_runs_constant, "gsgd.value-convergence:l1 regression"),
    Planted("gsgd-l1-penalty-sign-flipped",
            "the l1 penalty's subgradient enters the oracle with the wrong sign (the oracle of f - lam ||x||_1)",
            _penalty_sign_flipped, "gsgd.boundedness:coercive ReLU network loss"),
]
