"""Equality tests of the fast Cox engine against R's survival::coxph and lifelines.

R references: ``tests/reference/engine/make_reference.R`` (survival 3.5.3) on the committed
``tied_days.csv`` / ``continuous.csv`` (``make_data.py``: ``workbench.data.simulate`` with
``tenure_unit="days"`` / ``"months"``, 1,500 customers, 10 covariates). Tolerance: 1e-6 relative.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.exceptions import (
    CollinearityError,
    CollinearityWarning,
    ConvergenceWarning,
    ModelError,
    ParameterError,
    SeparationWarning,
)
from workbench.survival.engine import CoxFit, cox_fit, predict_survival

REF = Path(__file__).resolve().parents[1] / "reference" / "engine"
COVS = [
    "sat_1",
    "sat_2",
    "sat_4",
    "sat_5",
    "contract_one_year",
    "contract_two_year",
    "n_products_c",
    "charge_10",
    "perceived_value_c",
    "age_10",
]
RTOL = 1e-6


@pytest.fixture(scope="module")
def tied() -> pd.DataFrame:
    return pd.read_csv(REF / "tied_days.csv")


@pytest.fixture(scope="module")
def cont() -> pd.DataFrame:
    return pd.read_csv(REF / "continuous.csv")


@pytest.fixture(scope="module")
def rref() -> pd.DataFrame:
    return pd.read_csv(REF / "reference.csv", keep_default_na=False)


def _r(rref, case, quantity):
    sub = rref[(rref.case == case) & (rref.quantity == quantity)]
    assert len(sub), f"no R reference for {case}/{quantity}"
    vals = sub.value.astype(float).to_numpy()
    return vals if len(vals) > 1 else vals[0]


# case -> (data, duration column, engine kwargs)
CASES = {
    "days_efron": ("tied", "tenure", {"ties": "efron"}),
    "days_breslow": ("tied", "tenure", {"ties": "breslow"}),
    "month_efron": ("tied", "tenure_month", {"ties": "efron"}),
    "month_breslow": ("tied", "tenure_month", {"ties": "breslow"}),
    "continuous_efron": ("cont", "tenure", {"ties": "efron"}),
    "continuous_breslow": ("cont", "tenure", {"ties": "breslow"}),
    "strata_month_efron": ("tied", "tenure_month", {"ties": "efron", "strata": "segment"}),
    "strata_continuous_breslow": ("cont", "tenure", {"ties": "breslow", "strata": "segment"}),
    "weighted_month_efron": ("tied", "tenure_month", {"ties": "efron", "weights": "weight"}),
    "weighted_month_breslow": ("tied", "tenure_month", {"ties": "breslow", "weights": "weight"}),
    "weighted_robust_month_efron": (
        "tied",
        "tenure_month",
        {"ties": "efron", "weights": "weight", "robust": True},
    ),
    "weighted_robust_days_breslow": (
        "tied",
        "tenure",
        {"ties": "breslow", "weights": "weight", "robust": True},
    ),
    "weighted_strata_continuous_efron": (
        "cont",
        "tenure",
        {"ties": "efron", "weights": "weight", "strata": "segment", "robust": True},
    ),
    "cluster_month_efron": ("tied", "tenure_month", {"ties": "efron", "cluster": "household"}),
}


def _fit(data: pd.DataFrame, duration: str, kw: dict, **extra) -> CoxFit:
    kw = dict(kw)
    for key in ("strata", "weights", "cluster"):
        if key in kw:
            kw[key] = data[kw[key]].to_numpy()
    return cox_fit(data[COVS], data[duration], data["churned"], tol=1e-12, **kw, **extra)


@pytest.mark.r_reference
@pytest.mark.parametrize("case", list(CASES))
def test_engine_matches_r_coxph(case, tied, cont, rref):
    """R: ``coxph(Surv(tenure, churned) ~ <10 covariates> [+ strata(segment)] [+ cluster(household)],
    weights=weight, ties=..., robust=..., control=coxph.control(eps=1e-12))``."""
    name, duration, kw = CASES[case]
    data = tied if name == "tied" else cont
    fit = _fit(data, duration, kw)
    assert fit.converged
    np.testing.assert_allclose(fit.params, _r(rref, case, "coef"), rtol=RTOL)
    # R (survival >= 3) makes the variance robust by default with non-integer weights; its
    # naive.var is the inverse information our non-robust fit reports.
    r_se = "naive_se" if ("weights" in kw and not fit.robust) else "se"
    np.testing.assert_allclose(fit.se, _r(rref, case, r_se), rtol=RTOL)
    if fit.robust:
        np.testing.assert_allclose(
            np.sqrt(np.diag(fit.naive_variance)), _r(rref, case, "naive_se"), rtol=RTOL
        )
    np.testing.assert_allclose(fit.loglik, _r(rref, case, "loglik"), rtol=1e-10)
    np.testing.assert_allclose(fit.loglik_null, _r(rref, case, "loglik_null"), rtol=1e-10)
    np.testing.assert_allclose(fit.score_test["statistic"], _r(rref, case, "score_test"), rtol=RTOL)
    if "weights" not in kw and not fit.robust:  # R's wald.test uses R's (maybe robust) variance
        np.testing.assert_allclose(
            fit.wald_test["statistic"], _r(rref, case, "wald_test"), rtol=RTOL
        )


@pytest.mark.r_reference
@pytest.mark.parametrize(
    "case", ["days_efron", "month_breslow", "month_efron", "weighted_month_efron"]
)
def test_baseline_matches_r_survfit(case, tied, rref):
    """R: ``survfit(fit, newdata=as.data.frame(t(fit$means)))$cumhaz`` at event times."""
    _, duration, kw = CASES[case]
    fit = _fit(tied, duration, kw)
    base = pd.read_csv(REF / "baseline.csv")
    base = base[base.case == case]
    rmeans = _r(rref, case, "means")
    ours = fit.baseline.cumulative_hazard_at(base.time.to_numpy()) * np.exp(
        (rmeans - fit.center) @ fit.params
    )
    np.testing.assert_allclose(ours, base.cumhaz.to_numpy(), rtol=RTOL)
    # predict_survival at the means gives exp(-cumhaz), whatever the chunk size
    grid = base.time.to_numpy()[::7]
    s = predict_survival(fit.params, fit.baseline, np.vstack([rmeans] * 5), grid, chunk_size=2)
    np.testing.assert_allclose(s, np.exp(-ours[::7])[None, :].repeat(5, 0), rtol=RTOL)


def _lifelines(data, duration, *, weights=None, strata=None, robust=False, penalizer=0.0):
    from lifelines import CoxPHFitter

    cols = COVS + [duration, "churned"] + [c for c in (weights, strata) if c]
    cph = CoxPHFitter(penalizer=penalizer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph.fit(
            data[cols],
            duration,
            "churned",
            weights_col=weights,
            strata=strata,
            robust=robust,
            fit_options={"precision": 1e-13, "r_precision": 1e-15, "max_steps": 100},
        )
    return cph


@pytest.mark.parametrize(
    "name,duration,weights,strata,penalizer",
    [
        ("tied", "tenure_month", None, None, 0.0),  # heavy ties (lifelines' batch mode)
        ("cont", "tenure", None, None, 0.0),  # no ties
        ("tied", "tenure_month", None, "segment", 0.0),
        ("tied", "tenure_month", "weight", None, 0.0),
        ("cont", "tenure", "weight", "segment", 0.0),
        ("tied", "tenure", None, None, 0.05),  # lifelines' ridge penalty
    ],
)
def test_engine_matches_lifelines(name, duration, weights, strata, penalizer, tied, cont):
    """lifelines ``CoxPHFitter(penalizer=...).fit(df, duration, 'churned', weights_col=, strata=)``."""
    data = tied if name == "tied" else cont
    cph = _lifelines(data, duration, weights=weights, strata=strata, penalizer=penalizer)
    fit = cox_fit(
        data[COVS],
        data[duration],
        data["churned"],
        tol=1e-13,
        penalizer=penalizer,
        weights=None if weights is None else data[weights].to_numpy(),
        strata=None if strata is None else data[strata].to_numpy(),
    )
    np.testing.assert_allclose(fit.params, cph.params_.to_numpy(), rtol=RTOL)
    np.testing.assert_allclose(fit.se, cph.standard_errors_.to_numpy(), rtol=RTOL)
    if penalizer == 0:
        np.testing.assert_allclose(fit.loglik, cph.log_likelihood_, rtol=1e-10)


def test_score_residuals_sum_to_the_score(tied):
    """The score residuals sum to the score, which is about zero at the maximum."""
    fit = _fit(
        tied, "tenure_month", {"weights": "weight", "strata": "segment"}, return_residuals=True
    )
    assert fit.score_residuals.shape == (len(tied), len(COVS))
    np.testing.assert_allclose(fit.score_residuals.sum(axis=0), fit.score, rtol=0, atol=1e-9)
    assert np.abs(fit.score).max() < 1e-4


def test_recovers_true_log_hazard_ratios():
    """Single-cause simulation: the Cox model is correctly specified, so the truth is recovered."""
    from workbench.data import simulate, true_design

    frame, truth = simulate(20_000, seed=3, competing_risks=False, tenure_unit="days")
    X = true_design(frame)
    fit = cox_fit(X, frame["tenure"], frame["churned"])
    true = np.array([truth["log_hr"]["voluntary"][t] for t in X.columns])
    z = (fit.params - true) / fit.se
    assert np.all(np.abs(z) < 4), dict(zip(X.columns, np.round(z, 2)))


def test_predict_survival_is_a_survival_curve_and_stratified(tied):
    fit = _fit(tied, "tenure_month", {"strata": "segment"})
    grid = np.array([1, 6, 12, 24, 48])
    s = predict_survival(
        fit.params, fit.baseline, tied[COVS], grid, strata=tied["segment"], chunk_size=333
    )
    assert s.shape == (len(tied), 5)
    assert np.all((s > 0) & (s <= 1)) and np.all(np.diff(s, axis=1) <= 0)
    one = predict_survival(
        fit.params, fit.baseline, tied[COVS], grid, strata=tied["segment"], chunk_size=len(tied)
    )
    np.testing.assert_allclose(s, one, rtol=1e-14)
    with pytest.raises(ParameterError, match="stratified by 3 strata; pass `strata=`"):
        predict_survival(fit.params, fit.baseline, tied[COVS], grid)


# ------------------------------------------------------------------------------- edge cases
def test_all_censored_is_a_clear_model_error(tied):
    with pytest.raises(ModelError, match=r"no events: all 1,500 rows are censored"):
        cox_fit(tied[COVS], tied["tenure"], np.zeros(len(tied)))


def test_constant_column_is_dropped_with_a_warning_like_r(tied, rref):
    """R gives ``NA`` for a constant covariate and fits the others unchanged."""
    X = tied[COVS].assign(const=1.0)
    with pytest.warns(CollinearityWarning, match=r"\['const'\] are constant"):
        fit = cox_fit(X, tied["tenure"], tied["churned"], tol=1e-12)
    assert np.isnan(fit.params[-1]) and np.isnan(fit.se[-1]) and fit.dropped == ["const"]
    np.testing.assert_allclose(fit.params[:-1], _r(rref, "days_efron", "coef"), rtol=RTOL)
    assert any("constant" in w for w in fit.warnings)


def test_non_convergence_warns(tied):
    with pytest.warns(ConvergenceWarning, match="did not converge in 1 Newton-Raphson"):
        fit = cox_fit(tied[COVS], tied["tenure"], tied["churned"], max_iter=1)
    assert not fit.converged and fit.warnings


def test_separation_warns_about_infinite_coefficient(tied):
    """A covariate equal to 1 exactly for churners: the likelihood is monotone."""
    X = tied[COVS[:3]].assign(leak=tied["churned"].astype(float))
    with pytest.warns(SeparationWarning, match=r"Monotone likelihood for 'leak'.*firth=True"):
        fit = cox_fit(X, tied["tenure"], tied["churned"], max_iter=60)
    assert fit.params[-1] > 5 and fit.separated == ["leak"]
    assert not fit.converged and fit.loglik <= 0 and np.isinf(fit.se[-1])


def test_collinear_columns_are_a_model_error(tied):
    X = tied[COVS].assign(twice_age=2 * tied["age_10"])
    with pytest.raises(
        CollinearityError, match=r"collinear \('twice_age' = combination of \['age_10'\]\)"
    ):
        cox_fit(X, tied["tenure"], tied["churned"])


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"ties": "exact"}, r"`ties` must be one of \('efron', 'breslow'\), got 'exact'"),
        ({"weights": -1.0}, r"`weights` must be finite and > 0"),
        ({"max_iter": 0}, r"`max_iter` must be a positive integer, got 0"),
        ({"penalizer": -1}, r"`penalizer` must be a number >= 0"),
    ],
)
def test_bad_arguments_are_named(kwargs, match, tied):
    if "weights" in kwargs:
        kwargs = {"weights": np.full(len(tied), kwargs["weights"])}
    with pytest.raises(ParameterError, match=match):
        cox_fit(tied[COVS], tied["tenure"], tied["churned"], **kwargs)


def test_bad_data_are_named(tied):
    X = tied[COVS].copy()
    X.iloc[3, 0] = np.nan
    with pytest.raises(ParameterError, match=r"`X` has 1 row\(s\) with missing"):
        cox_fit(X, tied["tenure"], tied["churned"])
    with pytest.raises(ParameterError, match=r"`event` must be 0/1"):
        cox_fit(tied[COVS], tied["tenure"], tied["churned"] * 2)
    with pytest.raises(ParameterError, match=r"`time` has 3 values but `X` has 1,500 rows"):
        cox_fit(tied[COVS], [1, 2, 3], tied["churned"])
    with pytest.raises(ParameterError, match=r"non-numeric column\(s\) \['segment'\]"):
        cox_fit(tied[COVS + ["segment"]], tied["tenure"], tied["churned"])


@pytest.mark.parametrize("strata,weights", [(None, None), (["segment"], "weight")])
def test_engine_lifelines_fitter_gives_lifelines_results(tied, strata, weights):
    """``EngineCoxPHFitter`` is a ``CoxPHFitter``: same summary, log-likelihood and predictions."""
    from lifelines import CoxPHFitter

    from workbench.survival.engine import EngineCoxPHFitter

    cols = COVS + ["tenure_month", "churned"] + (strata or []) + ([weights] if weights else [])
    opts = {"precision": 1e-13, "r_precision": 1e-15, "max_steps": 100}
    kw = {"strata": strata, "weights_col": weights, "robust": weights is not None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = EngineCoxPHFitter().fit(
            tied[cols], "tenure_month", "churned", fit_options=opts, **kw
        )
        ref = CoxPHFitter().fit(tied[cols], "tenure_month", "churned", fit_options=opts, **kw)
    assert isinstance(ours, CoxPHFitter) and hasattr(ours, "engine_fit_")
    for col in ("coef", "se(coef)", "coef lower 95%", "z", "p"):
        np.testing.assert_allclose(ours.summary[col], ref.summary[col], rtol=RTOL)
    np.testing.assert_allclose(ours.log_likelihood_, ref.log_likelihood_, rtol=1e-10)
    np.testing.assert_allclose(
        ours.predict_survival_function(tied[cols].iloc[:20], times=[6, 12, 24]),
        ref.predict_survival_function(tied[cols].iloc[:20], times=[6, 12, 24]),
        rtol=RTOL,
    )
