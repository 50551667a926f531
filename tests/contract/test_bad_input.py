"""Bad tenure and event columns are refused, naming the column, by every public analysis that takes
data (issue 11): text, missing, infinite and negative tenure, and events coded 1/2 as in R's
``Surv(time, status)`` (the message must mention that convention).

The data are the built-in synthetic customers with one column spoiled, passed as a Dataset whose
spec names the spoiled column (a Dataset built directly, bypassing ``validate``, as a user's own
frame would reach an analysis). Analyses owned by other parts that accept the bad column today are
dated strict xfails in :data:`KNOWN_GAPS`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from workbench.exceptions import DataValidationError

SPOILERS = {
    "text": lambda s: s.astype(object).where(s.index != 3, "30 months"),
    "missing": lambda s: s.where(s.index != 3, np.nan),
    "infinite": lambda s: s.where(s.index != 3, np.inf),
    "negative": lambda s: s.where(s.index != 3, -1.0),
}


def _recipes():
    import workbench.drivers as drv
    import workbench.effects as fx
    import workbench.retention as R
    import workbench.survival as S
    import workbench.value as V

    return {
        "retention.period_rates": lambda d: R.period_rates(d),
        "retention.lifecycle_rates": lambda d: R.lifecycle_rates(d),
        "retention.churn_by_cause": lambda d: R.churn_by_cause(d),
        "retention.rates_by_segment": lambda d: R.rates_by_segment(d),
        "retention.cohort_table": lambda d: R.cohort_table(d),
        "survival.kaplan_meier": lambda d: S.kaplan_meier(d),
        "survival.rmst": lambda d: S.rmst(d, tau=12),
        "survival.logrank_test": lambda d: S.logrank_test(d, group_col="contract"),
        "survival.nelson_aalen": lambda d: S.nelson_aalen(d),
        "survival.fit_cox": lambda d: S.fit_cox(d, covariates=["age"]),
        "survival.fit_parametric": lambda d: S.fit_parametric(d),
        "survival.cumulative_incidence": lambda d: S.cumulative_incidence(d),
        "survival.fine_gray": lambda d: S.fine_gray(
            d, cause=S.most_common_cause(d), covariates=["age"]
        ),
        "survival.pairwise_logrank": lambda d: S.pairwise_logrank(d, group_col="contract"),
        "survival.trend_test": lambda d: S.trend_test(d, group_col="contract"),
        "survival.smoothed_hazard": lambda d: S.smoothed_hazard(d),
        "survival.stage_hazard": lambda d: S.stage_hazard(d),
        "survival.cohort_survival": lambda d: S.cohort_survival(d),
        "survival.gray_test": lambda d: S.gray_test(d, group_col="contract"),
        "survival.cause_specific_cox": lambda d: S.cause_specific_cox(
            d, cause=S.most_common_cause(d), covariates=["age"]
        ),
        "drivers.evaluate_hypotheses": lambda d: drv.evaluate_hypotheses(d),
        "effects.ipw_survival_curve": lambda d: fx.ipw_survival_curve(
            d, treatment_col="retention_offer", confounders=["contract", "age"]
        ),
        "effects.InterventionStudy.estimate": lambda d: fx.InterventionStudy(
            d, treatment_col="retention_offer", confounders=["contract", "age"]
        ).estimate(n_bootstrap=0),
        "value.clv_by_segment": lambda d: V.clv_by_segment(d, n_boot=0, margin_rate=0.3),
        "value.predict_clv": lambda d: V.predict_clv(d, margin_rate=0.3),
        "value.fit_sbg_customers": lambda d: V.fit_sbg_customers(d, period_length=3),
        "value.fit_sbg_cohorts": lambda d: V.fit_sbg_cohorts(d, period_length=3),
        "value.validate_health_score": lambda d: V.validate_health_score(d, n_boot=0),
    }


KNOWN_GAPS: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="module")
def base():
    from workbench.data import load_dataset

    return load_dataset("synthetic", n_customers=600, seed=3)


def _spoil(base, column, spoiler):
    from workbench.data import Dataset

    frame = base.frame.copy()
    frame[column] = spoiler(frame[column])
    return Dataset(frame, base.spec, name="spoiled")


def _cases():
    out = []
    for name in sorted(_recipes()):
        for kind in [*SPOILERS, "event_1_2"]:
            marks = ()
            if (name, kind) in KNOWN_GAPS or (name, "*") in KNOWN_GAPS:
                reason = KNOWN_GAPS.get((name, kind)) or KNOWN_GAPS[(name, "*")]
                marks = pytest.mark.xfail(strict=True, reason=reason)
            out.append(pytest.param(name, kind, marks=marks, id=f"{name}-{kind}"))
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("name", "kind"), _cases())
def test_bad_tenure_or_event_is_refused_naming_the_column(base, name, kind):
    spec = base.spec
    if kind == "event_1_2":
        data = _spoil(base, spec.event, lambda s: s + 1)
        column = spec.event
    else:
        data = _spoil(base, spec.tenure, SPOILERS[kind])
        column = spec.tenure
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataValidationError) as info:
            _recipes()[name](data)
    message = str(info.value)
    assert repr(column) in message or f"`{column}`" in message, message
    if kind == "event_1_2":
        assert "Surv" in message, message
