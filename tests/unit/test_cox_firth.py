"""Firth's penalised Cox model in the one engine, checked against an independent R computation.

Reference: ``tests/reference/firth/make_reference.R`` maximises ``l(b) + 0.5 log det I(b)`` with
``optim`` over ``survival::coxph(init = b, iter.max = 0)`` (``loglik[2]`` and ``var = I(b)^-1``),
for Breslow and Efron ties, strata, case weights and delayed entry (R's ``coxphf`` is not
installable here); the profile penalised-likelihood interval of the separating term by ``uniroot``.
Each case's R call is in ``firth.json`` (key ``call``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.exceptions import ParameterError, SeparationWarning
from workbench.survival import cox_fit, fit_cox
from workbench.survival._newton import firth_penalty
from workbench.survival._riskset import _Problem
from workbench.survival.profile import cox_lr_test, cox_profile_ci

HERE = Path(__file__).resolve().parents[1] / "reference" / "firth"
REF = json.loads((HERE / "firth.json").read_text())
TELCO = Path(__file__).resolve().parents[3] / "shared" / "data" / "ibm-telco"


def _leak():
    return pd.read_csv(HERE / "leak.csv")


def _telco_subset() -> pd.DataFrame:
    """Every 4th Telco customer by id (1,761), as the R script selects them."""
    st = pd.read_csv(TELCO / "Telco_customer_churn_status.csv")
    sv = pd.read_csv(TELCO / "Telco_customer_churn_services.csv")
    tl = st[["Customer ID", "Satisfaction Score", "Churn Value"]].merge(
        sv[["Customer ID", "Tenure in Months", "Contract"]], on="Customer ID"
    )
    tl = tl.sort_values("Customer ID", kind="stable").iloc[::4]
    return pd.DataFrame(
        {
            "tenure": tl["Tenure in Months"].to_numpy(float),
            "churned": tl["Churn Value"].to_numpy(int),
            "sat": pd.Categorical(tl["Satisfaction Score"].astype(str)),
            "contract": pd.Categorical(
                tl["Contract"], categories=["Month-to-Month", "One Year", "Two Year"]
            ),
        }
    )


def _case(name):
    """(X, time, event, engine keyword arguments, the profile term's column) of one R case."""
    if name.startswith("leak"):
        d = _leak()
        X = d[["leak", "age", "two_year"]]
        kw = {"ties": "efron" if "efron" in name else "breslow"}
        if "strata" in name:
            kw.update(strata=d["region"], weights=d["weight"])
        if "entry" in name:
            kw["entry"] = d["entry"]
        return X, d["tenure"], d["churned"], kw, 0
    if name.startswith("lifelines"):
        x = np.arange(-5, 4.0) if name.endswith("neg") else np.arange(1, 10.0)
        return pd.DataFrame({"x": x}), np.arange(1, 10.0), np.ones(9), {"ties": "efron"}, 0
    if name.startswith("rossi"):
        d = pd.read_csv(HERE / "rossi.csv").assign(paro=lambda f: f["arrest"])
        kw = {"ties": "efron" if "efron" in name else "breslow"}
        return d[["fin", "age", "paro"]], d["week"], d["arrest"], kw, 2
    d = _telco_subset()
    X = pd.get_dummies(d[["sat", "contract"]], drop_first=True, dtype=float)
    kw = {"ties": "efron" if "efron" in name else "breslow"}
    return X, d["tenure"], d["churned"], kw, 3  # sat5


@pytest.mark.r_reference
@pytest.mark.parametrize("name", list(REF))
def test_firth_cox_matches_penalised_likelihood_maximised_in_r(name):
    """Estimates and SEs to 2e-7, penalised and unpenalised log partial likelihoods to 1e-7, the
    separating term's profile penalised-likelihood interval to 1e-8 (observed: at most 5e-8,
    5e-8, 5e-12, 5e-8 and 3e-10; R's optim polished by three Newton steps)."""
    ref = REF[name]
    X, t, e, kw, j = _case(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no SeparationWarning, no numpy RuntimeWarning
        fit = cox_fit(X, t, e, firth=True, keep_data=True, **kw)
    assert fit.converged and fit.firth
    np.testing.assert_allclose(fit.params, ref["coef"], atol=2e-7, rtol=0)
    np.testing.assert_allclose(fit.se, ref["se"], atol=2e-7, rtol=0)
    assert fit.penalised_loglik == pytest.approx(ref["penalised_loglik"][0], abs=1e-7)
    assert fit.loglik == pytest.approx(ref["loglik"][0], abs=1e-7)
    ci = cox_profile_ci(fit, [j])[0]
    np.testing.assert_allclose(ci, ref["profile_ci"], atol=1e-8, rtol=0)


def test_the_same_data_without_firth_separate():
    """The R cases are separation cases: the unpenalised engine names the term, Firth does not."""
    for name, term in [("leak_efron", "leak"), ("rossi_paro_breslow", "paro")]:
        X, t, e, kw, _ = _case(name)
        with pytest.warns(SeparationWarning, match=f"'{term}'.*firth=True"):
            fit = cox_fit(X, t, e, **kw)
        assert fit.separated == [term] and not fit.converged


def test_fit_cox_firth_on_telco_categories_is_the_engine_fit():
    """The user's path: fit_cox(firth=True) on Telco's satisfaction as categories (the case its
    SeparationWarning suggests Firth for) gives R's penalised estimates, the profile intervals on
    the log scale with the hazard ratios beside them, and no SeparationWarning."""
    ref = REF["telco_sat_efron"]
    d = _telco_subset()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = fit_cox(
            d,
            duration_col="tenure",
            event_col="churned",
            covariates=["sat", "contract"],
            reference={"sat": "1"},
            firth=True,
        )
    s = res.summary
    np.testing.assert_allclose(s["estimate"], ref["coef"], atol=2e-7, rtol=0)
    np.testing.assert_allclose(s["se"], ref["se"], atol=2e-7, rtol=0)
    row = s.set_index("term").loc["sat[5]"]
    np.testing.assert_allclose(
        row[["ci_lower", "ci_upper"]].astype(float), ref["profile_ci"], atol=1e-8
    )
    np.testing.assert_allclose(np.log(s["hr_ci_lower"]), s["ci_lower"], rtol=1e-12)
    assert "Firth penalty, profile penalised-likelihood CIs" in res.meta["method"]
    assert res.meta["penalised_loglik"] == pytest.approx(ref["penalised_loglik"][0], abs=1e-7)
    assert (s["ci_lower"] < s["estimate"]).all() and (s["estimate"] < s["ci_upper"]).all()


def _random_problem(ties, layout, n=300):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, 3))
    X -= X.mean(axis=0)
    t = np.round(rng.exponential(5, n))  # ties
    e = rng.random(n) < 0.7
    w = st = ent = None
    if layout == "strata_weights":
        w, st = rng.uniform(0.5, 2, n), rng.integers(0, 3, n)
    if layout == "frequency":
        w = rng.integers(1, 4, n).astype(float)
    if layout == "entry":
        ent = np.where(rng.random(n) < 0.3, t * rng.random(n) * 0.9 - 0.01, -1.0)
    return _Problem(X, t, e, w, st, ties, ent, frequency=layout == "frequency")


@pytest.mark.parametrize("ties", ["breslow", "efron"])
@pytest.mark.parametrize("layout", ["plain", "strata_weights", "frequency", "entry"])
def test_penalty_gradient_is_the_derivative_of_half_log_det_information(ties, layout):
    """The O(n p^2) gradient of 0.5 log det I(b) against central differences (h = 1e-5)."""
    prob = _random_problem(ties, layout)
    b = np.array([0.3, -0.2, 0.5])
    _, grad = firth_penalty(prob, b, prob.evaluate(b, keep=True))

    def half_logdet(v):
        return firth_penalty(prob, v, prob.evaluate(v, keep=True))[0]

    num = [(half_logdet(b + h) - half_logdet(b - h)) / 2e-5 for h in np.eye(3) * 1e-5]
    np.testing.assert_allclose(grad, num, atol=1e-8)


def test_penalised_lr_test_keeps_the_full_penalty():
    """coxphftest's convention: the restricted fit holds the term at 0 in the full design; the
    statistic is positive and differs from refitting the smaller design with its own penalty."""
    X, t, e, kw, _ = _case("leak_breslow")
    fit = cox_fit(X, t, e, firth=True, keep_data=True, **kw)
    lr = cox_lr_test(fit, ["leak"])
    small = cox_fit(X[["age", "two_year"]], t, e, firth=True, **kw)
    assert lr["converged"] and lr["df"] == 1 and lr["statistic"] > 10
    assert abs(lr["statistic"] - 2 * (fit.penalised_loglik - small.penalised_loglik)) > 0.1


def test_firth_refusals_name_the_argument():
    X, t, e, kw, _ = _case("leak_breslow")
    with pytest.raises(ParameterError, match=r"`firth=True` with `penalizer=0.1`.*choose one"):
        cox_fit(X, t, e, firth=True, penalizer=0.1)
    with pytest.raises(ParameterError, match=r"`firth` must be True or False, got 'yes'"):
        cox_fit(X, t, e, firth="yes")
    with pytest.raises(ParameterError, match=r"`fixed` keys must be column positions 0..2"):
        cox_fit(X, t, e, fixed={"leak": 0.0})
    fit = cox_fit(X, t, e, firth=True)
    with pytest.raises(ParameterError, match=r"keep_data=True"):
        cox_profile_ci(fit)


def test_the_separation_warnings_suggestion_works_on_the_leaked_covariate():
    """fit_cox names 'notice_gap' and suggests firth=True; with it the fit converges to finite
    estimates with finite profile intervals, no SeparationWarning and no numpy RuntimeWarning."""
    from workbench.data import simulate

    frame, _ = simulate(3_000, seed=7)
    frame["notice_gap"] = np.where(frame["churned"] == 1, 0.0, frame["tenure"])
    kw = dict(
        duration_col="tenure", event_col="churned", covariates=["monthly_charge", "notice_gap"]
    )
    with pytest.warns(SeparationWarning, match=r"'notice_gap'.*firth=True"):
        fit_cox(frame, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = fit_cox(frame, firth=True, **kw)
    s = res.summary.set_index("term")
    assert res.meta["converged"] and not res.warnings
    assert np.isfinite(s[["estimate", "se", "ci_lower", "ci_upper"]].to_numpy()).all()
    assert s.loc["notice_gap", "ci_upper"] < 0  # churners have no gap: a strongly negative effect


@pytest.mark.parametrize("ties", ["breslow", "efron"])
def test_penalty_on_the_compiled_risk_sets_equals_the_numpy_path(ties):
    """Large problems evaluate on the compiled kernels: the penalty and its gradient are the same."""
    from workbench.survival._riskset_compiled import compiled

    if compiled() is None:
        pytest.skip("numba is not installed")
    prob = _random_problem(ties, "strata_weights", n=2_000)
    b = np.array([0.3, -0.2, 0.5])
    prob.compiled = True
    v1, g1 = firth_penalty(prob, b, prob.evaluate(b, keep=True))
    prob.compiled = False
    v0, g0 = firth_penalty(prob, b, prob.evaluate(b, keep=True))
    assert v1 == pytest.approx(v0, rel=1e-12)
    np.testing.assert_allclose(g1, g0, rtol=1e-10, atol=1e-12)
