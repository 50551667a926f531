"""The result contract's meta in the effects package carries what the report needs (issue 11).

The contract test (``tests/contract/test_result_contract.py``) checks that the keys exist; these
tests check their content: the reference levels are the treatment's control arm and the first level
of every confounder the specification enters as categories, the exclusions count the rows outside
the study, the fingerprint is the data's, results derived from an estimate (E-values, a sample size
planned from it) carry the meta of the data behind that estimate, and win-back states its
population and its reference group.
"""

from __future__ import annotations

import warnings

import pytest

import workbench.effects as fx
from workbench.columns import data_fingerprint
from workbench.data import load_dataset
from workbench.exceptions import EventCodingError, RowsExcludedWarning
from workbench.results import REQUIRED_META

CONFOUNDERS = ["contract", "monthly_charge", "n_complaints"]


@pytest.fixture(scope="module")
def ds():
    return load_dataset("synthetic", n_customers=1200, seed=11)


@pytest.fixture(scope="module")
def study(ds):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fx.InterventionStudy(
            ds, treatment_col="retention_offer", confounders=CONFOUNDERS, alpha=0.1
        )


@pytest.fixture(scope="module")
def effects(study):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return study.estimate(n_bootstrap=0)


def test_study_meta_names_the_reference_levels_of_its_models(ds, study, effects):
    refs = effects.meta["reference_levels"]
    # every contrast is an arm against the control arm
    assert refs["retention_offer"] == "control"
    # a category: its first level (R's rule; the indicator columns are the other levels)
    assert refs["contract"] == sorted(ds.frame["contract"].astype(str).unique())[0]
    # a count with few values enters as categories under the flexible rule: its lowest level
    assert refs["n_complaints"] == "0"
    # a continuous number enters as a spline: no reference level
    assert "monthly_charge" not in refs
    # the reference levels are the ones the specification states in words
    text = effects.meta["specification_text"]
    assert f"contract as categories (reference {refs['contract']})" in text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        linear = fx.InterventionStudy(
            ds,
            treatment_col="retention_offer",
            confounders=["monthly_charge", "n_complaints"],
            specification="linear",
        )
        assert linear.propensity().meta["reference_levels"] == {"retention_offer": "control"}


def test_study_meta_counts_exclusions_and_fingerprints_the_data(ds, study, effects):
    outside = int(ds.frame["retention_offer"].isna().sum())
    assert outside > 0
    ex = effects.meta["exclusions"]
    assert sum(e["n_rows"] for e in ex) == outside == len(ds.frame) - effects.meta["n"]
    assert "retention_offer" in ex[0]["reason"]
    assert effects.meta["fingerprint"] == ds.fingerprint
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = fx.InterventionStudy(
            ds.frame,
            treatment_col="retention_offer",
            control_arm="control",
            design="observational",
            duration_col="tenure",
            event_col="churned",
            confounders=CONFOUNDERS,
        )
    assert plain.check().meta["fingerprint"] == data_fingerprint(ds.frame)
    assert plain.check().meta["fingerprint"] != data_fingerprint(ds.frame.iloc[1:])


@pytest.mark.parametrize("method", ["propensity", "check", "weights", "balance"])
def test_every_stage_of_the_study_states_the_same_meta(study, effects, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = getattr(study, method)()
    for k in REQUIRED_META:
        if k != "method":
            assert res.meta[k] == effects.meta[k], (method, k)


def test_derived_results_carry_the_meta_of_the_estimate(effects):
    ev = fx.e_values(effects)
    plan = fx.sample_size_from(effects, alpha=0.05)
    for res in (ev, plan):
        for k in ("n", "events", "fingerprint", "exclusions", "reference_levels"):
            assert res.meta[k] == effects.meta[k], (res.title, k)
    assert ev.meta["alpha"] == effects.meta["alpha"] == 0.1
    assert plan.meta["alpha"] == 0.05  # the planned experiment's level, as passed
    assert fx.sample_size_from(effects).meta["alpha"] == 0.1  # default: the estimate's
    assert plan.key == "method" and ev.key == "measure"


def test_winback_meta_states_population_exclusions_and_reference(ds):
    res = fx.winback(ds, alpha=0.1)
    churned = int(ds.frame["churned"].sum())
    # the population is the churned customers (by design, not an exclusion); churned customers
    # without a contact or reactivation status are excluded and counted
    assert res.meta["n_churned"] == res.meta["n"] == churned and res.meta["exclusions"] == []
    frame = ds.frame.copy()
    frame.loc[frame.index[frame["churned"] == 1][:7], "winback_contacted"] = None
    with pytest.warns(RowsExcludedWarning, match="7 churned customers excluded"):
        res_missing = fx.winback(frame, event_col="churned", alpha=0.1)
    ex = {e["rule"]: e["n_rows"] for e in res_missing.meta["exclusions"]}
    assert ex == {"missing": 7} and res_missing.meta["n"] == churned - 7
    assert res.meta["reference_levels"] == {"winback_contacted": 0}
    assert res.meta["fingerprint"] == ds.fingerprint
    bad = ds.frame.assign(churned=ds.frame["churned"].astype(int) + 1)
    with pytest.raises(EventCodingError, match=r"'churned'.*Surv"):
        fx.winback(bad, event_col="churned")


def test_ipw_curve_summary_has_the_estimate_inside_its_interval(ds):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fx.ipw_survival_curve(
            ds,
            treatment_col="retention_offer",
            confounders=["contract"],
            n_bootstrap=30,
            n_jobs=1,
            times=[0, 6, 12],
            alpha=0.1,
        )
    s = res.summary
    assert {"estimate", "ci_lower", "ci_upper"} <= set(s.columns) and "survival" not in s
    assert (
        (s["ci_lower"] <= s["estimate"] + 1e-12) & (s["estimate"] <= s["ci_upper"] + 1e-12)
    ).all()
    assert res.meta["reference_levels"]["retention_offer"] == "control"
    ax = res.plot()
    assert ax.has_data()


def test_an_unavailable_study_states_the_contract_meta_at_the_alpha_passed(ds):
    """Data without a treatment role: every stage is an empty result saying why, carrying the
    data's n and fingerprint and the notebook's alpha (it once said alpha 0.05 whatever was passed)."""
    from workbench.results import REQUIRED_META

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = fx.declare_study(ds.frame, alpha=0.1)
        stages = [study.check(), study.balance(), study.estimate()]
        stages += [fx.e_values(stages[-1]), fx.sample_size_from(stages[-1]), fx.uplift(study)]
    for res in stages:
        assert res.meta["available"] is False and "treatment" in res.meta["reason"]
        assert set(REQUIRED_META) <= set(res.meta), res.title
        assert res.meta["alpha"] == 0.1 and res.meta["n"] == len(ds.frame), res.title
        assert res.meta["fingerprint"] == data_fingerprint(ds.frame), res.title
        assert "95%" not in res._repr_html_()
