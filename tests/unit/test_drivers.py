"""workbench.drivers: bad input, hypotheses found as simulated, the null variant, Telco separation,
mediation and marginal effects against the simulator's truth, multiplicity and power formulas."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

import workbench.drivers as drv
from workbench.data import load_synthetic
from workbench.drivers.separation import EXTREME_KIND
from workbench.exceptions import (
    DataValidationError,
    ModelError,
    ParameterError,
    RowsExcludedWarning,
    SeparationWarning,
    SmallSampleWarning,
)
from workbench.findings import Finding


@pytest.fixture(scope="module")
def family(synthetic):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        med = drv.mediation_analysis(synthetic)
        return drv.evaluate_hypotheses(synthetic, mediation=med), med


# ------------------------------------------------------------------------------------------ bad input
def test_no_satisfaction_column(synthetic_small):
    df = synthetic_small.frame.drop(columns=["satisfaction"])
    with pytest.raises(ParameterError, match="no satisfaction column"):
        drv.evaluate_hypotheses(
            df,
            duration_col="tenure",
            event_col="churned",
            switching_cost_cols=["contract", "n_products"],
        )
    with pytest.raises(ParameterError, match="`satisfaction_col`='sat' is not a column"):
        drv.evaluate_hypotheses(synthetic_small, satisfaction_col="sat")


def test_satisfaction_outside_scale(synthetic_small):
    df = synthetic_small.frame.copy()
    df.loc[df.index[:3], "satisfaction"] = 7
    with pytest.raises(
        DataValidationError, match=r"3 value\(s\) outside its declared scale \[1, 5\]"
    ):
        drv.evaluate_hypotheses(
            df,
            duration_col="tenure",
            event_col="churned",
            satisfaction_col="satisfaction",
            switching_cost_cols=["n_products"],
            satisfaction_scale=(1, 5),
        )


def test_switching_cost_with_one_level(synthetic_small):
    df = synthetic_small.frame.copy()
    df["bundle"] = 1
    with pytest.raises(
        DataValidationError, match="switching-cost variable 'bundle' has a single level"
    ):
        drv.evaluate_hypotheses(
            df,
            duration_col="tenure",
            event_col="churned",
            satisfaction_col="satisfaction",
            switching_cost_cols=["contract", "bundle"],
        )


def test_too_few_events(synthetic_small):
    df = synthetic_small.frame.copy()
    ev = np.flatnonzero(df["churned"].to_numpy() == 1)
    df.loc[df.index[ev[12:]], "churned"] = 0  # keep 12 events
    kw = dict(
        duration_col="tenure",
        event_col="churned",
        satisfaction_col="satisfaction",
        switching_cost_cols=["contract", "n_products"],
    )
    with pytest.raises(ModelError, match="too few events for the model: 12 churn events"):
        drv.evaluate_hypotheses(
            df, covariates=["age", "segment", "region", "payment_method", "monthly_charge"], **kw
        )
    with pytest.warns(SmallSampleWarning, match="events per parameter"):
        res = drv.evaluate_hypotheses(df, covariates=[], **kw)
    assert any("events per parameter" in w for w in res.warnings)


def test_bad_parameters(synthetic_small):
    with pytest.raises(ParameterError, match="`adjust` must be one of"):
        drv.evaluate_hypotheses(synthetic_small, adjust="bonferroni")
    with pytest.raises(ParameterError, match="`outcome` must be one of"):
        drv.evaluate_hypotheses(synthetic_small, outcome="logit")
    with pytest.raises(ParameterError, match="`alpha` must be a number in"):
        drv.evaluate_hypotheses(synthetic_small, alpha=5)


def test_missing_values_are_counted(synthetic_small):
    df = synthetic_small.frame.copy()
    df.loc[df.index[:7], "age"] = np.nan
    with pytest.warns(RowsExcludedWarning, match="7 of 3,000 customers excluded"):
        dd = drv.resolve_inputs(
            df,
            duration_col="tenure",
            event_col="churned",
            satisfaction_col="satisfaction",
            switching_cost_cols=["contract", "n_products"],
            covariates=["age"],
        )
    assert dd.n == 2993 and dd.exclusions[0]["n_rows"] == 7


def test_separation_warns_and_switches_to_firth():
    """A level of satisfaction with no churners: monotone likelihood, detected, named, Firth used."""
    ds = load_synthetic(3000, seed=2)
    df = ds.frame.copy()
    df.loc[df["satisfaction"] == 5, "churned"] = 0
    kw = dict(
        duration_col="tenure",
        event_col="churned",
        satisfaction_col="satisfaction",
        switching_cost_cols=["contract", "n_products"],
        covariates=[],
    )
    with pytest.warns(SeparationWarning, match=r"satisfaction \(levels 5\)") as rec:
        res = drv.satisfaction_form(df, **kw)
    msgs = [str(w.message) for w in rec]
    assert any("satisfaction (levels 5): monotone likelihood" in m for m in msgs)
    assert any("satisfaction (levels 5): quasi-complete" in m for m in msgs)
    lv = res.tables["levels"].set_index("level")
    assert np.isfinite(lv.loc[5, ["estimate", "ci_lower", "ci_upper"]].astype(float)).all()
    assert lv.loc[5, "ci_method"] == "profile"
    assert res.meta["firth"] is True
    sep = drv.check_separation(df, **kw).summary
    assert set(sep["kind"]) == {"monotone likelihood", "quasi-complete"}
    assert set(sep["levels"]) == {"5"}


# ------------------------------------------------------------------------------------------ the truth
def test_h1_h2_h3_found_as_simulated(family, synthetic):
    res, _ = family
    s = res.summary.set_index("hypothesis")
    assert list(s.index) == ["H1", "H2", "H3", "H4"]
    assert (s["decision"] == "supported").all(), s[["estimate", "p_adjusted", "decision"]]
    # H3 on the true switching-cost scale: the index is a rescaled score, so only the sign is comparable
    assert s.loc["H3", "estimate"] < 0 and s.loc["H3", "ci_upper"] < 0
    assert (s["p_adjusted"] >= s["p_value"] - 1e-15).all()
    assert all(isinstance(x, str) and x.startswith(h) for h, x in zip(s.index, s["sentence"]))
    rec = res.to_record()["summary"]
    assert {
        "hypothesis",
        "estimate",
        "ci_lower",
        "ci_upper",
        "statistic",
        "p_value",
        "p_adjusted",
        "decision",
        "method",
    } <= set(rec[0])


def test_h1_not_found_on_null_variant():
    ds = load_synthetic(5000, seed=3, satisfaction_effect=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = drv.evaluate_hypotheses(ds)
    s = res.summary.set_index("hypothesis")
    assert s.loc["H1", "decision"] == "not supported"
    assert s.loc["H1", "ci_lower"] < 0 < s.loc["H1", "ci_upper"]
    assert s.loc["H2", "decision"] == "supported"


def test_nonlinearity_and_level_effects_recovered(synthetic):
    """Categorical satisfaction effects (Cox, all causes) follow the simulated non-linear pattern:
    strong below the reference, weak above; the LR test rejects linearity."""
    res = drv.satisfaction_form(synthetic)
    lr = res.summary.set_index("comparison")
    assert lr.loc["categorical vs linear", "df"] == 3
    assert lr.loc["categorical vs linear", "p_value"] < 1e-6
    lv = res.tables["levels"].set_index("level")["estimate"]
    assert lv[1] > lv[2] > 0 > lv[4] and lv[5] < 0
    assert lv[1] - lv[2] > 0.1 and abs(lv[5] - lv[4]) < 0.15  # not on a line
    pred = res.tables["predicted"]
    assert ((pred["ci_lower"] < pred["retention"]) & (pred["retention"] < pred["ci_upper"])).all()
    assert pred["retention"].iloc[0] < pred["retention"].iloc[2]


def test_mediation_paths_recover_truth():
    """competing_risks=False: satisfaction -> perceived value = 0.6 per level, perceived value ->
    log hazard = -0.2 per unit (truth["perceived_value_path"]; without competing risks every cause
    carries the competitive cause's effects)."""
    ds = load_synthetic(8000, seed=5, competing_risks=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = drv.mediation_analysis(
            ds, covariates=["age", "segment", "monthly_charge", "n_complaints"]
        )
    paths = res.tables["paths"].set_index(res.tables["paths"]["path"].str[:2])
    truth = ds.truth["perceived_value_path"]
    for key, true in (
        ("a:", truth["satisfaction_to_perceived_value"]),
        ("b:", truth["log_hr_per_unit"]["competitive"]),
    ):
        est, se = paths.loc[key, "estimate"], paths.loc[key, "se"]
        assert abs(est - true) < 3.5 * se, (key, est, true, se)
    s = res.summary.set_index("effect")
    assert s.loc["indirect", "ci_upper"] < 0
    assert s.loc["indirect", "estimate"] == pytest.approx(
        paths.loc["a:", "estimate"] * paths.loc["b:", "estimate"]
    )
    assert 0 < s.loc["proportion_mediated", "estimate"] < 1


def test_mediation_without_perceived_value_is_empty(synthetic_small):
    df = synthetic_small.frame.drop(columns=["perceived_value"])
    res = drv.mediation_analysis(
        df,
        duration_col="tenure",
        event_col="churned",
        satisfaction_col="satisfaction",
        switching_cost_cols=["contract", "n_products"],
        covariates=[],
    )
    assert not res.available and res.to_record()["summary"] == []
    assert "no perceived-value column" in res.meta["reason"]


def test_interaction_marginal_effects(synthetic):
    res = drv.interaction_effects(synthetic)
    s = res.summary
    assert len(s) == 3 and (s["estimate"] < 0).all() and (s["ci_upper"] < 0).all()
    me = res.tables["marginal_effects"]
    assert len(me) == 15 and set(me["switching_cost"]) == {"low", "medium", "high"}
    gap = me.pivot(index="switching_cost", columns="satisfaction", values="retention")
    assert (gap[5] - gap[1])["high"] < (gap[5] - gap[1])["low"]  # dissatisfaction matters less
    did = (gap[5] - gap[1])["high"] - (gap[5] - gap[1])["low"]
    assert s.iloc[2]["estimate"] == pytest.approx(did, abs=1e-12)
    lr = res.meta["interaction_test"]
    assert lr["df"] == 1 and lr["p_value"] < 1e-6


def test_horizon_outcome_views_agree_on_direction(synthetic_small):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = drv.horizon_sensitivity(synthetic_small, horizons=(12, 24))
    df = res.summary
    assert set(df["outcome"]) == {"cox", "discrete", "horizon"}
    assert (df.loc[df["hypothesis"] == "H1", "estimate"] < 0).all()
    assert (df.loc[df["hypothesis"] == "H2", "estimate"] < 0).all()


def test_cluster_robust_ses(synthetic_small):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        naive = drv.evaluate_hypotheses(synthetic_small)
    with pytest.warns(SmallSampleWarning, match="only 4 clusters"):
        rob = drv.evaluate_hypotheses(synthetic_small, cluster_col="region")
    assert any("only 4 clusters" in w for w in rob.warnings)
    assert "cluster-robust SE (4 clusters)" in rob.summary["method"].iloc[0]
    assert "robust Wald" in rob.summary["method"].iloc[0]
    np.testing.assert_allclose(rob.summary["estimate"], naive.summary["estimate"], rtol=1e-8)
    assert not np.allclose(rob.summary["se"], naive.summary["se"])


# ------------------------------------------------------------------------------------------ Telco
def test_telco_separation_detected_named_and_handled(telco):
    """Satisfaction 4-5 only among stayers: named in every view (Cox, discrete time, the horizon)."""
    sep = drv.check_separation(telco).summary
    inf = sep[sep["kind"] != EXTREME_KIND]
    assert inf["model"].str.split(" ").str[0].tolist() == ["Cox", "discrete-time", "churn"]
    assert set(inf["variable"]) == {"satisfaction_score"}
    assert set(inf["levels"]) == {"4, 5"}
    assert set(inf["kind"]) == {"monotone likelihood", "quasi-complete"}
    assert inf["action"].str.contains("Firth").all()
    levels = drv.check_separation(telco).tables["levels"].set_index("satisfaction")["pattern"]
    assert (
        levels[[1, 2]].eq("every customer churned").all()
        and levels[[4, 5]].eq("no customer churned").all()
    )
    with pytest.warns(SeparationWarning, match="satisfaction_score"):
        res = drv.satisfaction_form(telco, covariates=[])
    lv = res.tables["levels"].set_index("level")
    assert np.isfinite(lv[["estimate", "se", "ci_lower", "ci_upper"]].to_numpy(float)).all()
    assert (lv.loc[[4, 5], "ci_method"] == "profile").all()
    assert (lv.loc[[4, 5], "estimate"] < -3).all()
    assert any("Firth" in w for w in res.warnings)


# ------------------------------------------------------------------------------------------ formulas
def test_adjust_pvalues_match_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = np.array([0.01, 0.04, 0.03, 0.2, np.nan])
    for ours, theirs in (("holm", "holm"), ("bh", "fdr_bh")):
        got = drv.adjust_pvalues(p, ours)
        exp = multipletests(p[:4], method=theirs)[1]
        np.testing.assert_allclose(got[:4], exp, atol=1e-15)
        assert np.isnan(got[4])


def test_minimum_detectable_effect_formula():
    r = drv.minimum_detectable_effect(0.02, n=10_000, alpha=0.05, power=0.9, estimate=0.05)
    row = r.summary.set_index("n").loc[10_000]
    assert row["mde"] == pytest.approx(
        (stats.norm.ppf(0.975) + stats.norm.ppf(0.9)) * 0.02, rel=1e-12
    )
    assert r.summary.set_index("n").loc[40_000, "se"] == pytest.approx(0.01)
    # power at an effect equal to the MDE is the requested power
    r2 = drv.minimum_detectable_effect(0.02, n=10_000, power=0.9, estimate=row["mde"])
    assert r2.summary.set_index("n").loc[10_000, "power_at_estimate"] == pytest.approx(
        0.9, abs=1e-4
    )
    with pytest.raises(ParameterError, match="`se` must be a positive number"):
        drv.minimum_detectable_effect(0.0, n=10)


def test_key_findings_and_plots(family, synthetic):
    import matplotlib

    matplotlib.use("Agg")
    res, med = family
    kf = drv.key_findings(res, mediation=med)
    assert len(kf) == 5 and all(isinstance(x, Finding) and len(x.text) < 400 for x in kf)
    assert kf[0].text.startswith("H1 (satisfaction raises retention): supported at alpha = 0.05")
    assert "95% CI" in kf[0].text and "log hazard ratio" in kf[0].text
    assert any("not the effect" in c for c in kf[0].caveats)  # observational: association
    assert kf[0].importance == 1 and kf[0].to_record()["caveats"]
    assert res.plot() is not None and med.plot() is not None
    assert "<table" in res._repr_html_()


# ------------------------------------------------------------------------------------------ guards
def test_covariate_guards(synthetic_small):
    """Unknown names fail with "did you mean"; a string where a list is expected is refused; a
    1,000-level covariate is refused before any fit (count + remedy); personal columns are refused."""
    from workbench.data import Dataset
    from workbench.exceptions import ColumnListError, ColumnNotFoundError, TooManyLevelsError

    with pytest.raises(ColumnNotFoundError, match=r"`covariates`='agee'.*Did you mean 'age'"):
        drv.evaluate_hypotheses(synthetic_small, covariates=["agee", "contract"])
    with pytest.raises(ColumnListError, match=r"got the string 'age'; write covariates=\['age'\]"):
        drv.evaluate_hypotheses(synthetic_small, covariates="age")
    f = synthetic_small.frame.assign(shop=[f"shop{i % 1000}" for i in range(synthetic_small.n)])
    with pytest.raises(
        TooManyLevelsError, match=r"'shop' has 1,000 levels, more than max_levels=20"
    ):
        drv.evaluate_hypotheses(Dataset(f, synthetic_small.spec), covariates=["age", "shop"])
    with pytest.raises(ParameterError, match="`covariates` = .customer_id. is the customer id"):
        drv.resolve_inputs(synthetic_small, covariates=["customer_id"])
