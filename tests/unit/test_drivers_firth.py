"""Firth logistic / Cox, Breslow Cox and IPCW checked against independent references.

Reference values: ``Rscript tests/reference/drivers/make_reference.R`` (R brglm2, survival).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench.drivers import (
    censoring_survival,
    detect_monotone_likelihood,
    detect_separation,
    firth_cox,
    firth_logistic,
    horizon_outcome,
    person_period,
)
from workbench.drivers.models import fit_cox, fit_logistic
from workbench.exceptions import ParameterError

REF = Path(__file__).resolve().parents[1] / "reference" / "drivers"


@pytest.fixture(scope="module")
def endometrial():
    return pd.read_csv(REF / "endometrial.csv"), json.loads(
        (REF / "firth_logistic.json").read_text()
    )


@pytest.fixture(scope="module")
def lung():
    return pd.read_csv(REF / "lung_cox.csv"), json.loads((REF / "cox.json").read_text())


@pytest.mark.r_reference
def test_firth_logistic_matches_brglm2(endometrial):
    """R: glm(HG ~ NV + PI + EH, family = binomial, data = endometrial, method = "brglmFit",
    type = "AS_mean"): coefficients and SEs to 1e-6; profile penalised-likelihood CIs (R optim +
    uniroot on l(b) + 0.5 log|I(b)|) to 1e-6."""
    d, ref = endometrial
    res = firth_logistic(d[["NV", "PI", "EH"]], d["HG"])
    s = res.summary.set_index("term").loc[ref["terms"]]
    np.testing.assert_allclose(s["estimate"], ref["coef"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(s["se"], ref["se"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(s["ci_lower"], ref["ci_lower"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(s["ci_upper"], ref["ci_upper"], atol=1e-6, rtol=0)
    assert (s["ci_method"] == "profile").all()
    assert res.meta["penalised_loglik"] == pytest.approx(ref["penalised_loglik"], abs=1e-8)


def test_endometrial_separation_detected_and_ml_diverges(endometrial):
    """NV = 1 occurs only with HG = 1 (quasi-complete separation): detected and named; the ML fit
    runs away (R's glm gives NV about 18 with a warning) while Firth stays finite."""
    d, ref = endometrial
    sep = detect_separation(d[["NV", "PI", "EH"]], d["HG"])
    assert sep.found
    row = sep.summary.set_index("variable").loc["NV"]
    assert row["kind"] == "quasi-complete" and row["direction"] == "+inf"
    assert sep.meta["lp_separated"] and not sep.meta["lp_complete"]
    X = np.column_stack([np.ones(len(d)), d[["NV", "PI", "EH"]]])
    ml = fit_logistic(X, d["HG"], max_iter=25)
    assert ml.params_[1] > 10  # diverging
    assert not detect_separation(d[["PI", "EH"]], d["HG"]).found


def test_complete_separation_kind():
    x = pd.DataFrame({"x": np.arange(10.0)})
    y = (np.arange(10) >= 5).astype(int)
    sep = detect_separation(x, y)
    assert sep.summary["kind"].tolist() == ["complete"]
    res = firth_logistic(x, y)
    assert np.isfinite(res.summary["estimate"]).all()
    assert np.isfinite(res.summary[["ci_lower", "ci_upper"]].to_numpy()).all()


@pytest.mark.r_reference
def test_cox_breslow_matches_r(lung):
    """R: coxph(Surv(time, event) ~ age + sex + ph.ecog, data = lung_cc, ties = "breslow"), and with
    cluster = inst for the robust (Lin-Wei) SEs."""
    d, ref = lung
    X = d[["age", "sex", "ph.ecog"]]
    f = fit_cox(X, d["time"], d["event"], ties="breslow")  # through the survival engine
    np.testing.assert_allclose(f.params_, ref["coef"], atol=1e-7, rtol=0)
    np.testing.assert_allclose(f.se_, ref["se"], atol=1e-7, rtol=0)
    assert f.loglik_ == pytest.approx(ref["loglik"], abs=1e-7)
    assert f._data["engine"].loglik_null == pytest.approx(ref["loglik_null"], abs=1e-7)
    fr = fit_cox(X, d["time"], d["event"], clusters=d["inst"], ties="breslow")
    np.testing.assert_allclose(fr.se_, ref["robust_se"], atol=1e-7, rtol=0)
    np.testing.assert_allclose(fr.params_, ref["coef"], atol=1e-7, rtol=0)


@pytest.mark.r_reference
def test_firth_cox_matches_penalised_likelihood_in_r(lung):
    """z = 1 only among censored patients: monotone likelihood (ML estimate -> -inf). R reference:
    optim() of coxph's log partial likelihood + 0.5 log|I| (coxph(init = b, iter.max = 0)), and the
    profile penalised-likelihood CI of z by uniroot. Tolerance 1e-5 (R optim precision)."""
    d, ref = lung
    X = d[["age", "sex", "ph.ecog", "z"]]
    sep = detect_monotone_likelihood(X, d["time"], d["event"])
    assert sep.summary["variable"].tolist() == ["z"]
    assert sep.summary["direction"].tolist() == ["-inf"]
    res = firth_cox(X, d["time"], d["event"])
    s = res.summary.set_index("term")
    np.testing.assert_allclose(s["estimate"], ref["firth_coef"], atol=1e-5, rtol=0)
    assert res.meta["penalised_loglik"] == pytest.approx(ref["firth_penalised_loglik"], abs=1e-8)
    np.testing.assert_allclose(
        s.loc["z", ["ci_lower", "ci_upper"]].astype(float), ref["firth_z_ci"], atol=1e-5
    )
    # the ordinary fit runs away
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ml = fit_cox(X, d["time"], d["event"], max_iter=30)
    assert ml.params_[3] < -8


def test_firth_logistic_rejects_non_binary():
    with pytest.raises(ParameterError, match="must be 0/1"):
        firth_logistic(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), [0, 2, 1])


def test_censoring_km_and_ipcw_weights_match_lifelines():
    """G(t-) equals lifelines' Kaplan-Meier of the censoring times (events as censored, ties: events
    first), and the
    IPCW weights of the known-status customers sum to n (an identity of the KM estimator)."""
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(4)
    t = np.round(rng.exponential(10, 400), 1) + 0.1
    c = np.round(rng.uniform(0, 25, 400), 1) + 0.1
    time = np.minimum(t, c)
    event = (t <= c).astype(int)
    G = censoring_survival(time, event)
    # convention: an event at t precedes a censoring at t (the event is not at risk of censoring at t);
    # lifelines counts ties as at risk, so break the ties explicitly for the reference
    km = KaplanMeierFitter().fit(time - 1e-7 * event, 1 - event)
    grid = np.array([1.0, 3.3, 7.0, 12.0, 18.5])
    # left limit of lifelines' step function
    expect = km.survival_function_at_times(grid - 1e-9).to_numpy()
    np.testing.assert_allclose(G(grid), expect, atol=1e-12)
    ho = horizon_outcome(time, event, 12.0)
    assert ho["weight"].sum() == pytest.approx(len(time), rel=0.02)
    assert ho.loc[~ho["known"], "weight"].eq(0).all()
    known = horizon_outcome(time, event, 12.0, method="known")
    assert set(known["weight"].unique()) <= {0.0, 1.0}


def test_person_period_expansion():
    pp = person_period(np.array([2.5, 1.0, 3.0]), np.array([1, 0, 0]))
    assert pp["row"].tolist() == [0, 0, 0, 1, 2, 2, 2]
    assert pp["period"].tolist() == [1, 2, 3, 1, 1, 2, 3]
    assert pp["event"].tolist() == [0, 0, 1, 0, 0, 0, 0]


def test_discrete_time_collapsed_equals_person_period(synthetic_small):
    """The discrete-time view collapses person-period rows to binomial counts per customer and
    period band; the fit must equal the fit on the expanded person-period data."""
    from workbench.drivers import build_design, resolve_inputs
    from workbench.drivers.fitting import Prepared, fit_view
    from workbench.drivers.outcomes import period_bands

    dd = resolve_inputs(synthetic_small)
    X, _, info = build_design(dd, satisfaction_form="linear", interaction=True)
    vf = fit_view(Prepared(dd, "discrete"), X, info, firth=False)
    pp = person_period(dd.frame["tenure"], dd.frame["churned"])
    B = period_bands(pp["period"].to_numpy(), pp["event"].to_numpy())
    Z = np.column_stack([np.ones(len(pp)), B, X.to_numpy()[pp["row"]]])
    full = fit_logistic(Z, pp["event"])
    np.testing.assert_allclose(vf.fit.params_, full.params_, atol=1e-8)
    np.testing.assert_allclose(vf.fit.se_, full.se_, atol=1e-8)
    assert vf.fit.loglik_ == pytest.approx(full.loglik_, abs=1e-6)


def test_logistic_ml_and_cluster_robust_match_statsmodels():
    """Unpenalised logistic fit and its cluster-robust covariance equal statsmodels'
    Logit(...).fit(cov_type="cluster", cov_kwds={"groups": g, "use_correction": False})."""
    import statsmodels.api as sm

    rng = np.random.default_rng(7)
    n = 600
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n)])
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ [-0.5, 0.8, -0.6])))).astype(float)
    g = rng.integers(0, 30, n)
    ours = fit_logistic(X, y, clusters=g)
    ref = sm.Logit(y, X).fit(
        disp=0, cov_type="cluster", cov_kwds={"groups": g, "use_correction": False}
    )
    np.testing.assert_allclose(ours.params_, ref.params, atol=1e-9)
    np.testing.assert_allclose(ours.se_, ref.bse, rtol=1e-8)
    assert ours.loglik_ == pytest.approx(ref.llf, abs=1e-8)


@pytest.fixture(scope="module")
def firth_lr():
    return json.loads((REF / "firth_lr.json").read_text())


@pytest.mark.r_reference
def test_firth_lr_tests_logistic_match_r(endometrial, firth_lr):
    """Penalised LR tests (full model's penalty, tested coefficients fixed at 0) against R optim on
    ``l(b) + 0.5 log|I(b)|`` (``make_firth_lr.R``) to 1e-6. They also equal logistf's published
    chi-squares for this example (Heinze & Ploner: NV 6.80, PI 0.75, EH 17.76). Refitting the smaller
    design with its own penalty, as the drivers did before, gives other numbers (PI: 7.38 vs 0.75)."""
    from workbench.drivers.profile import lr_test

    d, _ = endometrial
    X = np.column_stack([np.ones(len(d)), d[["NV", "PI", "EH"]]])
    fit = fit_logistic(X, d["HG"], firth=True, names=["(Intercept)", "NV", "PI", "EH"])
    assert fit.loglik_ == pytest.approx(firth_lr["logistic_penalised_loglik"], abs=1e-8)
    for terms, ref, wrong in zip(
        firth_lr["logistic_tests"],
        firth_lr["logistic_lr"],
        firth_lr["logistic_lr_wrong_reduced_penalty"],
    ):
        stat, df, p = lr_test(fit, terms)
        assert stat == pytest.approx(ref, abs=1e-6), terms
        assert df == len(terms) and p == pytest.approx(stats.chi2.sf(ref, len(terms)), abs=1e-7)
        assert abs(stat - wrong) > 0.1
    assert [round(v, 2) for v in firth_lr["logistic_lr"][:3]] == [6.80, 0.75, 17.76]


@pytest.mark.r_reference
def test_firth_lr_tests_cox_match_r(lung, firth_lr):
    """The same for the Firth-type Cox model (Breslow) with the monotone-likelihood covariate z, to
    1e-6 against R optim of coxph's partial likelihood + 0.5 log|I| with coefficients fixed at 0."""
    from workbench.drivers.profile import lr_test

    d, _ = lung
    names = ["age", "sex", "ph.ecog", "z"]
    fit = fit_cox(d[names].to_numpy(float), d["time"], d["event"], firth=True, names=names)
    assert fit.loglik_ == pytest.approx(firth_lr["cox_penalised_loglik"], abs=1e-8)
    for terms, ref, wrong in zip(
        firth_lr["cox_tests"], firth_lr["cox_lr"], firth_lr["cox_lr_wrong_reduced_penalty"]
    ):
        stat, df, _ = lr_test(fit, terms)
        assert stat == pytest.approx(ref, abs=1e-6), terms
        assert abs(stat - wrong) > 1.0


def test_unpenalised_lr_equals_dropping_the_columns(lung):
    """Without the penalty, fixing coefficients at 0 is the usual LR test against the smaller model."""
    from workbench.drivers.profile import lr_test

    d, _ = lung
    names = ["age", "sex", "ph.ecog"]
    fit = fit_cox(d[names].to_numpy(float), d["time"], d["event"], names=names)
    small = fit_cox(d[["age"]].to_numpy(float), d["time"], d["event"], names=["age"])
    assert fit._data["ties"] == "efron"  # unpenalised: R's default ties
    stat, df, _ = lr_test(fit, ["sex", "ph.ecog"])
    assert df == 2 and stat == pytest.approx(2 * (fit.loglik_ - small.loglik_), abs=1e-8)
