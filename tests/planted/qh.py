"""Planted mistakes in the quasi-hyperbolic methods, converters and targets (issue 13 item 5).

Each patch wraps a public function of ``stochopt.qh`` (never a private name), so a row survives a
refactor of the rules inside; the named claim part must come out not verified.
"""
import numpy as np

from planted import Planted


def _wrap(monkeypatch, name, make):
    """Replace ``stochopt.qh.<name>`` everywhere it is looked up (package, its module, top-level alias)."""
    import stochopt
    from stochopt import qh

    original = getattr(qh, name)
    wrapped = make(original)
    for module in (qh, stochopt, *(getattr(qh, m, None) for m in ("methods", "converters", "targets"))):
        if module is not None and getattr(module, name, None) is original:
            monkeypatch.setattr(module, name, wrapped)


def _qhm_nu_on_momentum(monkeypatch):
    # x <- x - lr (nu g + (1 - nu) b): the discount on the wrong term, i.e. QHM with 1 - nu
    _wrap(monkeypatch, "qhm", lambda f: lambda lr, momentum=0.999, nu=0.7, *a, **k: f(lr, momentum, 1 - np.asarray(nu),
                                                                                         *a, **k))


class _ShiftedCounter:
    """A method whose bias corrections see t + 1 (an off-by-one in the step counter): step k runs as k + 1."""

    def __init__(self, inner):
        self.inner = inner

    def init(self, x0, replica_ids=None):
        return self.inner.init(x0, replica_ids)

    def step(self, state, grad):
        return self.inner.step(state.replace(k=state.k + 1), grad).replace(k=state.k + 1)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def _qhadam_bias_off_by_one(monkeypatch):
    _wrap(monkeypatch, "qhadam", lambda f: lambda *a, **k: _ShiftedCounter(f(*a, **k)))


def _from_pid_nu_sign(monkeypatch):
    _wrap(monkeypatch, "from_pid", lambda f: lambda *a, **k: {**f(*a, **k), "nu": -np.asarray(f(*a, **k)["nu"])})


def _snv_nu_sign(monkeypatch):
    # nu = 1 + beta2 (1 - beta1)/beta1 instead of 1 - ...: 2 - nu
    _wrap(monkeypatch, "from_synthesized_nesterov",
          lambda f: lambda *a, **k: {**f(*a, **k), "nu": 2 - np.asarray(f(*a, **k)["nu"])})


def _rm_c_rho_squared(monkeypatch):
    # c = rho^2 / (...) instead of rho^3 / (...): the coefficient code shared by converter and stochopt's target
    def make(f):
        def coefficients(l, kappa, rho=None):
            out = f(l, kappa, rho)
            return {**out, "c": np.asarray(out["c"]) / np.asarray(out["rho"])}
        return coefficients
    _wrap(monkeypatch, "robust_momentum_coefficients", make)


def _tm_default_rho(monkeypatch):
    # rho = None taken as 1 - 1/kappa (Robust Momentum's other end) instead of 1 - 1/sqrt(kappa)
    _wrap(monkeypatch, "from_robust_momentum",
          lambda f: lambda l, kappa, rho=None: f(l, kappa, 1 - 1 / np.asarray(kappa, float) if rho is None else rho))


def _accsgd_eps_ignored(monkeypatch):
    _wrap(monkeypatch, "from_accsgd", lambda f: lambda delta, kappa, xi, eps=0.7: f(delta, kappa, xi))


def _two_state_zero_start(monkeypatch):
    # the TSO target ignores the initial-state condition a_0 = k x_0/(1 - h) and starts at a_0 = 0
    _wrap(monkeypatch, "two_state", lambda f: lambda *a, **k: f(*a, **{**k, "a0": "zeros"}))


def _to_snv_missing_factor(monkeypatch):
    # beta2 = (1 - nu) momentum instead of (1 - nu) momentum / (1 - momentum)
    _wrap(monkeypatch, "to_synthesized_nesterov", lambda f: lambda lr, momentum, nu: {
        **f(lr, momentum, nu), "beta2": (1 - np.asarray(nu)) * np.asarray(momentum)})


def _from_pid_unchecked(monkeypatch):
    _wrap(monkeypatch, "from_pid", lambda f: lambda k_p, k_i, k_d: {
        "lr": k_i, "momentum": k_d / (k_d - k_p), "nu": k_p * k_p / (k_i * k_d)})


def _tm_alpha_one_over_l(monkeypatch):
    # alpha = 1/L instead of (1 + rho)/L: triple_momentum(L (1 + rho), kappa) has alpha = 1/L
    _wrap(monkeypatch, "triple_momentum", lambda f: lambda l, kappa: f(
        np.asarray(l, float) * (2 - 1 / np.sqrt(np.asarray(kappa, float))), kappa))


def _qhadam_nu2_on_wrong_term(monkeypatch):
    # (1 - nu2) v_hat + nu2 g^2 instead of (1 - nu2) g^2 + nu2 v_hat: QHAdam with 1 - nu2
    def make(f):
        def qhadam(lr=1e-3, betas=(0.9, 0.999), nus=(1.0, 1.0), *a, **k):
            return f(lr, betas, (nus[0], 1 - np.asarray(nus[1])), *a, **k)
        return qhadam
    _wrap(monkeypatch, "qhadam", make)


def _from_nadam_nus_swapped(monkeypatch):
    _wrap(monkeypatch, "from_nadam", lambda f: lambda *a, **k: {**f(*a, **k), "nus": tuple(reversed(f(*a, **k)["nus"]))})


def _tm_output_is_xi(monkeypatch):
    # Triple Momentum's output x_k taken as xi_k (delta = 0): converges at the same rate, so only the
    # iterate-level comparison with Van Scoy et al.'s x_k sees it
    from stochopt.qh import targets

    original = targets._tm_rule

    def rule(x, buffers, g, h, k):
        y, new = original(x, buffers, g, h, k)
        return y, {**new, "output": new["xi"]}

    monkeypatch.setattr(targets, "_tm_rule", rule)


def _tm_output_detector():
    from test_qh_claims import test_triple_momentum_output_is_van_scoys_x_k

    test_triple_momentum_output_is_van_scoys_x_k()


ROWS = [
    Planted("qhm-nu-on-momentum", "QHM's nu weights the gradient and 1 - nu the momentum (swapped)",
            _qhm_nu_on_momentum, "qh.special-cases.qhm:nu = 1 is heavy_ball(lr, beta)"),
    Planted("qhadam-bias-correction-off-by-one", "QHAdam's bias corrections use 1 - beta^(t+1) instead of 1 - beta^t",
            _qhadam_bias_off_by_one, "qh.special-cases.qhadam:nus = (1, 1) is Adam"),
    Planted("from-pid-nu-sign", "from_pid returns nu = -k_p^2/(k_i k_d) (a sign error in nu)", _from_pid_nu_sign,
            "qh.converter.pid:iterates x_t"),
    Planted("from-snv-nu-sign", "from_synthesized_nesterov returns nu = 1 + beta2 (1 - beta1)/beta1 (sign error)",
            _snv_nu_sign, "qh.converter.synthesized-nesterov:transfer functions (sympy)"),
    Planted("robust-momentum-c-rho-squared", "Robust Momentum's c uses rho^2 instead of rho^3 (in the coefficient code "
            "that the converter and stochopt's target share)", _rm_c_rho_squared,
            "qh.converter.robust-momentum:gradient points y_k"),
    Planted("triple-momentum-default-rho", "from_robust_momentum(rho=None) uses 1 - 1/kappa instead of 1 - 1/sqrt(kappa)",
            _tm_default_rho, "qh.converter.triple-momentum:gradient points y_k"),
    Planted("accsgd-eps-ignored", "from_accsgd ignores its eps and converts with the default 0.7", _accsgd_eps_ignored,
            "qh.converter.accsgd:iterates w_t"),
    Planted("two-state-ignores-initial-line", "the two-state target starts at a_0 = 0, ignoring a_0 = k x_0/(1 - h)",
            _two_state_zero_start, "qh.converter.two-state:iterates x_t (general map)"),
    Planted("to-snv-missing-factor", "to_synthesized_nesterov forgets the factor 1/(1 - momentum) in beta2",
            _to_snv_missing_factor, "qh.converter.round-trips:synthesized Nesterov, both ways"),
    Planted("from-pid-unchecked", "from_pid without input validation (qhoptim's bare formula)", _from_pid_unchecked,
            "qh.converter.singular-inputs:from_pid"),
    Planted("triple-momentum-alpha", "Triple Momentum's alpha = 1/L instead of (1 + rho)/L", _tm_alpha_one_over_l,
            "qh.triple-momentum.rate"),
    Planted("qhadam-nu2-on-wrong-term", "QHAdam's nu2 weights g^2 and 1 - nu2 the second moment (swapped)",
            _qhadam_nu2_on_wrong_term, "qh.adam-step-bound"),
    Planted("triple-momentum-output-is-xi", "Triple Momentum's output x_k taken as xi_k (delta = 0; the rate "
            "claim cannot see it: every combination of xi_k, xi_{k-1} converges at rho)", _tm_output_is_xi,
            "tests/test_qh_claims.py::test_triple_momentum_output_is_van_scoys_x_k", detector=_tm_output_detector),
    Planted("from-nadam-nus-swapped", "from_nadam returns nus = (1, beta1) instead of (beta1, 1)", _from_nadam_nus_swapped,
            "qh.from-nadam.asymptotic:late steps agree"),
]

NO_PLANTED = {}
