"""Survival estimates against R ``survival`` 3.5-3 (values from tests/reference/survival/make_reference.R).

Tolerance 1e-6 relative wherever the method is the same; Telco grouped by contract and a small
synthetic data set with ties (whole months), integer weights and strata (``small.csv``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.survival import kaplan_meier, rmst
from workbench.survival.hazard import nelson_aalen
from workbench.survival.logrank import logrank_test, trend_test
from workbench.survival.parametric import fit_parametric

REF = Path(__file__).resolve().parents[1] / "reference" / "survival"
RTOL = 1e-6


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return pd.read_csv(REF / "small.csv")


@pytest.fixture(scope="module")
def telco_frame(telco) -> pd.DataFrame:
    f = telco.frame
    return pd.DataFrame(
        {
            "tenure": f["tenure_in_months"].astype(float),
            "churned": f["churn_value"].astype(int),
            "contract": f["contract"].astype(str),
            "internet": f["internet_type"].astype(str),
            "monthly_charge": f["monthly_charge"].astype(float),
        }
    )


def _data(name, small, telco_frame):
    return small if name == "small" else telco_frame


KM_CASES = [
    ("telco", "contract", False, "log"),
    ("telco", "contract", False, "log-log"),
    ("telco", "contract", False, "plain"),
    ("telco", "", False, "log"),
    ("telco", "", False, "log-log"),
    ("small", "contract", False, "log"),
    ("small", "contract", False, "log-log"),
    ("small", "contract", False, "plain"),
    ("small", "contract", True, "log"),
    ("small", "contract", True, "log-log"),
    ("small", "", True, "log"),
]


def _ref(file: str, **where) -> pd.DataFrame:
    r = pd.read_csv(REF / file, keep_default_na=True)
    for k, v in where.items():
        col = r[k].fillna("") if r[k].dtype == object else r[k]
        r = r[col == v]
    assert len(r), f"no reference rows for {where}"
    return r


@pytest.mark.parametrize(("dataset", "group_col", "weighted", "ci_scale"), KM_CASES)
def test_km_curves_match_r(dataset, group_col, weighted, ci_scale, small, telco_frame):
    """R: survfit(Surv(tenure, churned) ~ <group>, data, conf.type=<ci_scale>[, weights=w, robust=FALSE])."""
    ref = _ref(
        "km_curves.csv", dataset=dataset, group_col=group_col, weighted=weighted, ci_scale=ci_scale
    )
    km = kaplan_meier(
        _data(dataset, small, telco_frame),
        duration_col="tenure",
        event_col="churned",
        group_col=group_col or None,
        weights_col="w" if weighted else None,
        ci_scale=ci_scale,
    )
    got = km.curves.reset_index(drop=True)
    ref = ref.reset_index(drop=True)
    assert list(got["group"]) == list(ref["group"])
    np.testing.assert_allclose(got["time"], ref["time"], rtol=0)
    np.testing.assert_allclose(got["at_risk"], ref["n_risk"], rtol=RTOL)
    np.testing.assert_allclose(got["events"], ref["n_event"], rtol=RTOL)
    np.testing.assert_allclose(got["censored"], ref["n_censor"], rtol=RTOL)
    np.testing.assert_allclose(got["survival"], ref["surv"], rtol=RTOL, atol=1e-12)
    # R's std.err is the SE of log S (cumulative hazard scale); ours is the SE of S
    se_log = got["se"] / got["survival"]
    ok = got["survival"] > 0
    np.testing.assert_allclose(se_log[ok], ref["std_err"][ok], rtol=RTOL, atol=1e-12)
    for ours, theirs in (("ci_lower", "lower"), ("ci_upper", "upper")):
        has = ref[theirs].notna()
        assert has.sum() > 10
        np.testing.assert_allclose(got.loc[has, ours], ref.loc[has, theirs], rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize(("dataset", "group_col", "weighted", "ci_scale"), KM_CASES)
def test_median_and_ci_match_r(dataset, group_col, weighted, ci_scale, small, telco_frame):
    """R: summary(survfit(...))$table[, c('median', '0.95LCL', '0.95UCL')] (print.survfit's rule)."""
    ref = _ref(
        "km_median.csv", dataset=dataset, group_col=group_col, weighted=weighted, ci_scale=ci_scale
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        km = kaplan_meier(
            _data(dataset, small, telco_frame),
            duration_col="tenure",
            event_col="churned",
            group_col=group_col or None,
            weights_col="w" if weighted else None,
            ci_scale=ci_scale,
        )
    s = km.summary.reset_index(drop=True)
    ref = ref.reset_index(drop=True)
    assert list(s["group"]) == list(ref["group"])
    np.testing.assert_allclose(s["n"], ref["n"], rtol=RTOL)
    np.testing.assert_allclose(s["events"], ref["events"], rtol=RTOL)
    for ours, theirs in (
        ("median", "median"),
        ("median_ci_lower", "lcl"),
        ("median_ci_upper", "ucl"),
    ):
        np.testing.assert_array_equal(s[ours].isna(), ref[theirs].isna())
        np.testing.assert_allclose(s[ours].dropna(), ref[theirs].dropna(), rtol=RTOL)


def test_nelson_aalen_matches_r(small, telco_frame):
    """R: survfit(Surv(tenure, churned) ~ contract)$cumhaz and $std.chaz (Nelson-Aalen, ctype=1)."""
    for name in ("telco", "small"):
        ref = _ref(
            "km_curves.csv", dataset=name, group_col="contract", weighted=False, ci_scale="log"
        )
        na = nelson_aalen(
            _data(name, small, telco_frame),
            duration_col="tenure",
            event_col="churned",
            group_col="contract",
        )
        np.testing.assert_allclose(na.curves["cumhaz"], ref["cumhaz"], rtol=RTOL)
        np.testing.assert_allclose(na.curves["se"], ref["std_chaz"], rtol=RTOL)


@pytest.mark.parametrize(
    ("dataset", "group_col", "weighted"),
    [
        ("telco", "contract", False),
        ("telco", "", False),
        ("small", "contract", False),
        ("small", "contract", True),
        ("small", "", True),
    ],
)
@pytest.mark.parametrize("tau", [12, 24, 60])
def test_rmst_and_se_match_r(dataset, group_col, weighted, tau, small, telco_frame):
    """R: summary(survfit(...), rmean=tau)$table[, c('rmean', 'se(rmean)')] (as print(fit, rmean=tau))."""
    ref = _ref(
        "rmst.csv", dataset=dataset, group_col=group_col, weighted=weighted, tau=tau
    ).reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = rmst(
            _data(dataset, small, telco_frame),
            duration_col="tenure",
            event_col="churned",
            tau=tau,
            group_col=group_col or None,
            weights_col="w" if weighted else None,
        )
    s = r.summary
    assert list(s["group"]) == list(ref["group"])
    np.testing.assert_allclose(s["estimate"], ref["rmean"], rtol=RTOL)
    np.testing.assert_allclose(s["se"], ref["se"], rtol=RTOL, atol=1e-12)


LR_CASES = [
    ("telco", "", 0.0),
    ("telco", "internet", 0.0),
    ("telco", "", 1.0),
    ("small", "", 0.0),
    ("small", "region", 0.0),
    ("small", "", 1.0),
    ("small", "region", 0.5),
]


@pytest.mark.parametrize(("dataset", "strata", "rho"), LR_CASES)
def test_logrank_matches_survdiff(dataset, strata, rho, small, telco_frame):
    """R: survdiff(Surv(tenure, churned) ~ contract [+ strata(s)], rho=rho)."""
    ref = _ref("logrank.csv", dataset=dataset, strata=strata, rho=rho).reset_index(drop=True)
    lr = logrank_test(
        _data(dataset, small, telco_frame),
        duration_col="tenure",
        event_col="churned",
        group_col="contract",
        strata=strata or None,
        rho=rho,
    )
    assert lr.df == int(ref["df"].iloc[0])
    np.testing.assert_allclose(lr.statistic, ref["chisq"].iloc[0], rtol=RTOL)
    np.testing.assert_allclose(lr.groups["observed"], ref["observed"], rtol=RTOL)
    np.testing.assert_allclose(lr.groups["expected"], ref["expected"], rtol=RTOL)


@pytest.mark.parametrize(
    ("dataset", "strata"),
    [("telco", ""), ("telco", "internet"), ("small", ""), ("small", "region")],
)
def test_trend_matches_klein_moeschberger_in_r(dataset, strata, small, telco_frame):
    """R: sd <- survdiff(...); a <- 1:k; sum(a * (O - E)) / sqrt(t(a) %*% sd$var %*% a) (K&M 7.4)."""
    ref = _ref("logrank.csv", dataset=dataset, strata=strata, rho=0.0)
    tt = trend_test(
        _data(dataset, small, telco_frame),
        duration_col="tenure",
        event_col="churned",
        group_col="contract",
        strata=strata or None,
    )
    np.testing.assert_allclose(tt.summary["statistic_z"].iloc[0], ref["trend_z"].iloc[0], rtol=RTOL)


SR_CASES = [
    ("telco", "1", False),
    ("telco", "contract + monthly_charge", False),
    ("small", "contract", True),
    ("small", "1", False),
]


@pytest.mark.parametrize(("dataset", "rhs", "weighted"), SR_CASES)
def test_aft_models_match_survreg(dataset, rhs, weighted, small, telco_frame):
    """R: survreg(Surv(tenure, churned) ~ rhs, dist = 'weibull' | 'lognormal' | 'loglogistic'[, weights=w])."""
    covs = [] if rhs == "1" else [c.strip() for c in rhs.split("+")]
    fit = fit_parametric(
        _data(dataset, small, telco_frame),
        duration_col="tenure",
        event_col="churned",
        covariates=covs,
        weights_col="w" if weighted else None,
        models=["weibull", "lognormal", "loglogistic"],
    )
    for dist in ("weibull", "lognormal", "loglogistic"):
        ref = _ref("survreg.csv", dataset=dataset, rhs=rhs, weighted=weighted, dist=dist)
        co = fit.coefficients[fit.coefficients["model"] == dist]
        np.testing.assert_allclose(co["estimate"], ref["estimate"], rtol=RTOL, atol=1e-9)
        np.testing.assert_allclose(co["se"], ref["se"], rtol=1e-5)
        ll = fit.summary.set_index("model").loc[dist, "loglik"]
        np.testing.assert_allclose(ll, ref["loglik"].iloc[0], rtol=RTOL)


@pytest.mark.parametrize("ci_scale", ["log", "log-log"])
@pytest.mark.parametrize("group_col", ["contract", ""])
def test_robust_variance_for_non_integer_weights_matches_r(ci_scale, group_col, small):
    """R: survfit(Surv(tenure, churned) ~ g, weights = w/3 + 0.1, conf.type=...): non-integer weights
    make R use the robust (infinitesimal jackknife) variance; its std.err is then the SE of S."""
    ref = _ref("km_robust.csv", group_col=group_col, ci_scale=ci_scale).reset_index(drop=True)
    km = kaplan_meier(
        small.assign(wr=small["w"] / 3 + 0.1),
        duration_col="tenure",
        event_col="churned",
        group_col=group_col or None,
        weights_col="wr",
        ci_scale=ci_scale,
    )
    assert km.meta["variance"] == "robust"
    got = km.curves
    np.testing.assert_allclose(got["survival"], ref["surv"], rtol=RTOL)
    np.testing.assert_allclose(got["se"], ref["std_err_surv"], rtol=RTOL, atol=1e-12)
    for ours, theirs in (("ci_lower", "lower"), ("ci_upper", "upper")):
        has = ref[theirs].notna()
        np.testing.assert_allclose(got.loc[has, ours], ref.loc[has, theirs], rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize(
    ("dataset", "strata"),
    [("telco", ""), ("telco", "internet"), ("small", ""), ("small", "region")],
)
def test_pairwise_logrank_matches_survdiff_on_pairs(dataset, strata, small, telco_frame):
    """R: survdiff(Surv(tenure, churned) ~ contract [+ strata(s)], subset = pair); p.adjust(p, 'holm')."""
    from workbench.survival.logrank import pairwise_logrank

    ref = _ref("pairwise_logrank.csv", dataset=dataset, strata=strata).reset_index(drop=True)
    pw = pairwise_logrank(
        _data(dataset, small, telco_frame),
        duration_col="tenure",
        event_col="churned",
        group_col="contract",
        strata=strata or None,
    ).summary
    assert list(zip(pw["group"], pw["reference"], strict=True)) == list(
        zip(ref["group"], ref["reference"], strict=True)
    )
    np.testing.assert_allclose(pw["statistic"], ref["chisq"], rtol=RTOL)
    np.testing.assert_allclose(pw["p_value"], ref["p"], rtol=1e-5, atol=1e-300)
    np.testing.assert_allclose(pw["p_adjusted"], ref["p_holm"], rtol=1e-5, atol=1e-300)
