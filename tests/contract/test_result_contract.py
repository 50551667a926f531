"""The one result contract, checked over every public analysis of the package.

Every function in the ``__all__`` of an analysis package (retention, survival, drivers, effects,
value, purchases) is either an analysis with a call recipe in :data:`RECIPES` (run here on small
built-in data) or listed in :data:`NOT_ANALYSES` with the reason it returns no result (array
kernels, sentence composers, loaders). A new public function that is neither fails
``test_every_public_function_is_classified``.

Each analysis is run at ``alpha = 0.1`` where it takes ``alpha`` and must return a
:class:`workbench.results.Result` with

* a tidy ``summary`` DataFrame using the shared names (no alias such as ``lower`` / ``pvalue``) and a
  declared key column ``result.key`` present in the summary;
* the interval on the estimate's scale: ``ci_lower <= estimate <= ci_upper`` on every row where all
  three are finite;
* ``meta`` with every key of :data:`workbench.results.REQUIRED_META`, ``n``, ``method`` and
  ``fingerprint`` filled, ``reference_levels`` a dict, ``exclusions`` a list of dicts each
  counting its rows (``n_rows``), and ``alpha`` equal to the one passed;
* ``_repr_html_()`` that does not raise;
* ``to_record()`` a JSON-safe dict carrying ``summary`` and ``meta``;
* no literal "95%" anywhere in its HTML or its record when ``alpha`` is 0.1.

Functions owned by other parts of the package that do not meet the contract yet are marked
``xfail(strict=True)`` in :data:`KNOWN_GAPS` with the date and the reason: when one is fixed, its
xfail turns into a failure and the entry must be removed.
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import re
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from workbench.results import REQUIRED_META, Result

PACKAGES = ("retention", "survival", "drivers", "effects", "value", "purchases")
ALPHA = 0.1
#: "95%" as a label, not as the tail of a number such as "0.95%"
LITERAL_95 = re.compile(r"(?<![\d.])95%")
ALIASES = {
    "lower",
    "upper",
    "ci_low",
    "ci_high",
    "lcl",
    "ucl",
    "lower_ci",
    "upper_ci",
    "ci_lo",
    "ci_hi",
    "conf_low",
    "conf_high",
    "pvalue",
    "p",
    "pval",
    "std_err",
    "stderr",
    "se_coef",
}

#: public functions that are not analyses, with the reason
NOT_ANALYSES = {
    "retention.key_findings": "composes Finding sentences from results",
    "retention.cohort_survivors": "survivor counts per cohort (input to value.fit_sbg)",
    "survival.key_findings": "composes Finding sentences from results",
    "survival.most_common_cause": "returns a level name",
    "survival.km_estimate": "array kernel (product-limit arrays)",
    "survival.rmst_from_curve": "array kernel (a number)",
    "survival.cox_fit": "engine kernel returning CoxFit arrays; fit_cox is the analysis",
    "survival.predict_survival": "array kernel",
    "survival.baseline_hazard": "table from a CoxFit",
    "drivers.adjust_pvalues": "array kernel (multiplicity adjustment)",
    "drivers.build_design": "design matrix builder",
    "drivers.censoring_survival": "array kernel",
    "drivers.detect_monotone_likelihood": "diagnostic on a design matrix",
    "drivers.detect_separation": "diagnostic on a design matrix",
    "drivers.firth_cox": "penalised fit on arrays (FirthResult)",
    "drivers.firth_logistic": "penalised fit on arrays (FirthResult)",
    "drivers.horizon_outcome": "outcome builder (a frame)",
    "drivers.key_findings": "composes Finding sentences from results",
    "drivers.minimum_detectable_effect": "power arithmetic on given numbers",
    "drivers.interaction_power": "power arithmetic on a hypotheses result",
    "drivers.person_period": "data expansion (a frame)",
    "drivers.plot_horizon_sensitivity": "figure",
    "drivers.resolve_inputs": "input resolution (DriverData)",
    "drivers.switching_cost_index": "index construction (a series)",
    "drivers.switching_costs_separately": "internal table builder exported by drivers",
    "effects.bca_interval": "array kernel",
    "effects.bootstrap_replicates": "array kernel",
    "effects.e_value": "arithmetic on given numbers (a dict)",
    "effects.key_findings": "composes Finding sentences from results",
    "effects.percentile_interval": "array kernel",
    "effects.power_logrank": "design arithmetic on given numbers",
    "effects.sample_size": "design arithmetic on given numbers",
    "effects.truth_comparison": "simulation check against known truth (a frame)",
    "effects.simulation_study": "the committed simulation study's table (a frame)",
    "effects.declare_study": "builds an InterventionStudy (its methods are the analyses)",
    "effects.default_confounders": "role lookup (a list of column names)",
    "value.build_health_score": "score construction (a series)",
    "value.cumulative_dynamic_auc": "array kernel (a number)",
    "value.discounted_area": "array kernel (a number)",
    "value.key_findings": "composes Finding sentences from results",
    "value.margin_available": "role check (a sentence or None)",
    "value.monthly_discount_rate": "arithmetic",
    "value.resolve_margin": "input resolution (an array)",
    "value.sbg_derl": "closed-form formula",
    "value.sbg_retention_rate": "closed-form formula",
    "value.sbg_survival": "closed-form formula",
    "value.simulate_sbg_survivors": "simulator",
    "value.uno_concordance": "array kernel (a number)",
    "purchases.holdout_errors": "error measures (a dict)",
    "purchases.key_findings": "composes Finding sentences from results",
    "purchases.load_purchase_summary": "loader",
    "purchases.load_transactions": "loader",
    "purchases.rfm_summary": "data summary (CustomerSummary)",
    "purchases.simulate_bgnbd": "simulator",
    "purchases.simulate_paretonbd": "simulator",
    "purchases.summary_from_arrays": "data summary (CustomerSummary)",
}


# ------------------------------------------------------------------------------------ data
class Data:
    """Small built-in data, built once per session on first use."""

    _cache: dict = {}

    def get(self, name: str, build: Callable):
        if name not in self._cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._cache[name] = build()
        return self._cache[name]

    @property
    def synth(self):
        from workbench.data import load_dataset

        return self.get("synth", lambda: load_dataset("synthetic", n_customers=1500, seed=7))

    @property
    def telco(self):
        from workbench.config import telco_dir
        from workbench.data import load_telco

        return self.get("telco", lambda: load_telco(telco_dir()))

    @property
    def study(self):
        import workbench.effects as fx

        return self.get(
            "study",
            lambda: fx.InterventionStudy(
                self.synth,
                treatment_col="retention_offer",
                confounders=["contract", "monthly_charge", "age"],
                alpha=ALPHA,
            ),
        )

    @property
    def effects(self):
        return self.get("effects", lambda: self.study.estimate(n_bootstrap=0))

    @property
    def cdnow(self):
        from workbench.data.cdnow import CALIBRATION_END, OBSERVATION_END, load_cdnow
        from workbench.purchases import rfm_summary

        return self.get(
            "cdnow",
            lambda: rfm_summary(
                load_cdnow(), calibration_end=CALIBRATION_END, observation_end=OBSERVATION_END
            ),
        )

    @property
    def bgnbd(self):
        from workbench.purchases import fit_bgnbd

        return self.get("bgnbd", lambda: fit_bgnbd(self.cdnow, alpha=ALPHA))

    @property
    def hypotheses(self):
        import workbench.drivers as drv

        return self.get("hypotheses", lambda: drv.evaluate_hypotheses(self.synth, alpha=ALPHA))

    @property
    def customer_values(self):
        import workbench.value as V

        return self.get(
            "customer_values",
            lambda: V.predict_clv(self.synth, horizon_months=24, effect_hr=0.8, alpha=ALPHA),
        )


D = Data()


def _m():
    import workbench.retention as R
    import workbench.survival as S
    import workbench.value as V

    return R, S, V


def _recipes() -> dict[str, Callable[[], Result]]:
    import workbench.drivers as drv
    import workbench.effects as fx
    import workbench.purchases as P

    R, S, V = _m()
    a = {"alpha": ALPHA}
    return {
        # retention
        "retention.period_rates": lambda: R.period_rates(D.synth, **a),
        "retention.lifecycle_rates": lambda: R.lifecycle_rates(D.synth, **a),
        "retention.churn_by_cause": lambda: R.churn_by_cause(D.synth, **a),
        "retention.rates_by_segment": lambda: R.rates_by_segment(D.synth, **a),
        "retention.referral_rate": lambda: R.referral_rate(D.telco, **a),
        "retention.cohort_table": lambda: R.cohort_table(D.synth),
        # survival
        "survival.kaplan_meier": lambda: S.kaplan_meier(D.synth, group_col="contract", **a),
        "survival.rmst": lambda: S.rmst(D.synth, tau=24, group_col="contract", **a),
        "survival.logrank_test": lambda: S.logrank_test(D.synth, group_col="contract", **a),
        "survival.pairwise_logrank": lambda: S.pairwise_logrank(D.synth, group_col="contract", **a),
        "survival.trend_test": lambda: S.trend_test(D.synth, group_col="contract", **a),
        "survival.cohort_survival": lambda: S.cohort_survival(D.synth, **a),
        "survival.nelson_aalen": lambda: S.nelson_aalen(D.synth, **a),
        "survival.smoothed_hazard": lambda: S.smoothed_hazard(D.synth, **a),
        "survival.stage_hazard": lambda: S.stage_hazard(D.synth, **a),
        "survival.fit_cox": lambda: S.fit_cox(D.synth, covariates=["contract", "age"], **a),
        "survival.cause_specific_cox": lambda: S.cause_specific_cox(
            D.synth, cause=S.most_common_cause(D.synth), covariates=["contract", "age"], **a
        ),
        "survival.fine_gray": lambda: S.fine_gray(
            D.synth, cause=S.most_common_cause(D.synth), covariates=["contract", "age"], **a
        ),
        "survival.fit_parametric": lambda: S.fit_parametric(D.synth, covariates=["contract"], **a),
        "survival.cumulative_incidence": lambda: S.cumulative_incidence(D.synth, **a),
        "survival.gray_test": lambda: S.gray_test(D.synth, group_col="contract", **a),
        # drivers
        "drivers.evaluate_hypotheses": lambda: D.hypotheses,
        "drivers.check_separation": lambda: drv.check_separation(D.synth),
        "drivers.horizon_sensitivity": lambda: drv.horizon_sensitivity(
            D.synth, horizons=(12,), include_time_to_event=False, **a
        ),
        "drivers.interaction_effects": lambda: drv.interaction_effects(D.synth, **a),
        "drivers.mediation_analysis": lambda: drv.mediation_analysis(D.synth, n_draws=200, **a),
        "drivers.satisfaction_form": lambda: drv.satisfaction_form(D.synth, **a),
        # effects
        "effects.InterventionStudy.estimate": lambda: D.effects,
        "effects.InterventionStudy.balance": lambda: D.study.balance("ipw"),
        "effects.InterventionStudy.weights": lambda: D.study.weights("ipw"),
        "effects.InterventionStudy.propensity": lambda: D.study.propensity(),
        "effects.InterventionStudy.check": lambda: D.study.check(),
        "effects.e_values": lambda: fx.e_values(D.effects),
        "effects.heterogeneity": lambda: fx.heterogeneity(D.study, by=["contract"]),
        "effects.ipw_survival_curve": lambda: fx.ipw_survival_curve(
            D.synth, treatment_col="retention_offer", confounders=["contract", "age"], **a
        ),
        "effects.negative_control": lambda: fx.negative_control(
            D.study, churn_type_col=D.synth.spec.churn_type
        ),
        "effects.placebo_treatment": lambda: fx.placebo_treatment(D.study, n_permutations=20),
        "effects.sample_size_from": lambda: fx.sample_size_from(D.effects),
        "effects.uplift": lambda: fx.uplift(D.study),
        "effects.winback": lambda: fx.winback(D.synth, **a),
        # value
        "value.clv_by_segment": lambda: V.clv_by_segment(
            D.synth, horizon_months=24, n_boot=30, margin_rate=0.3, **a
        ),
        "value.predict_clv": lambda: D.customer_values,
        "value.compare_cltv": lambda: V.compare_cltv(D.telco, _telco_values(), **a),
        "value.value_matrix": lambda: V.value_matrix(D.customer_values),
        "value.lorenz_curve": lambda: V.lorenz_curve(D.customer_values),
        "value.strategy_effect": lambda: V.strategy_effect(D.synth, **a),
        "value.fit_sbg": lambda: V.fit_sbg([1000, 631, 468, 382, 326, 289, 262, 241], **a),
        "value.fit_sbg_customers": lambda: V.fit_sbg_customers(D.synth, period_length=3, **a),
        "value.fit_sbg_cohorts": lambda: V.fit_sbg_cohorts(D.synth, period_length=3, **a),
        "value.validate_health_score": lambda: V.validate_health_score(D.synth, n_boot=20, **a),
        # purchases
        "purchases.fit_bgnbd": lambda: D.bgnbd,
        "purchases.fit_mbgnbd": lambda: P.fit_mbgnbd(D.cdnow, **a),
        "purchases.fit_paretonbd": lambda: P.fit_paretonbd(D.cdnow, **a),
        "purchases.fit_gammagamma": lambda: P.fit_gammagamma(D.cdnow, **a),
        "purchases.fit_bgbb": lambda: P.fit_bgbb(
            [0, 1, 2, 3, 1, 0], [0, 2, 3, 3, 1, 0], [3] * 6, **a
        ),
        "purchases.predict_customers": lambda: P.predict_customers(D.bgnbd, D.cdnow, horizon=39),
        "purchases.tracking": lambda: P.tracking(D.bgnbd, D.cdnow),
        "purchases.conditional_expectations": lambda: P.conditional_expectations(D.bgnbd, D.cdnow),
        "purchases.compare_models": lambda: P.compare_models({"bgnbd": D.bgnbd}, D.cdnow),
        "purchases.loyalty_measures": lambda: P.loyalty_measures(D.cdnow),
        "purchases.priority_list": lambda: P.priority_list(
            P.predict_customers(
                D.bgnbd, D.cdnow, horizon=39, spend_fit=P.fit_gammagamma(D.cdnow, **a)
            )
        ),
    }


def _telco_values():
    _, _, V = _m()
    return D.get(
        "telco_values",
        lambda: V.predict_clv(D.telco, horizon_months=24, margin_rate=0.3, alpha=ALPHA),
    )


def _public_functions() -> list[str]:
    out = []
    for pkg in PACKAGES:
        mod = importlib.import_module(f"workbench.{pkg}")
        for name in getattr(mod, "__all__", []):
            if inspect.isfunction(getattr(mod, name, None)):
                out.append(f"{pkg}.{name}")
    return out


#: analyses owned by other parts that fail the contract today: name -> reason (dated)
KNOWN_GAPS: dict[str, str] = {}

RECIPE_NAMES = sorted(_recipes())


def _param(name):
    if name in KNOWN_GAPS:
        return pytest.param(
            name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[name]), id=name
        )
    return pytest.param(name, id=name)


def test_every_public_function_is_classified():
    public = set(_public_functions())
    unclassified = sorted(public - set(RECIPE_NAMES) - set(NOT_ANALYSES))
    assert not unclassified, (
        f"public functions with neither a call recipe (RECIPES) nor a reason (NOT_ANALYSES): "
        f"{unclassified}"
    )
    methods = {n for n in RECIPE_NAMES if n.count(".") == 2}  # analyses that are methods
    stale = sorted((set(RECIPE_NAMES) | set(NOT_ANALYSES)) - public - methods)
    assert not stale, f"entries for functions that are no longer public: {stale}"


def contract_violations(result: object, *, alpha: float | None) -> list[str]:
    """Every way ``result`` breaks the contract (empty list: it meets it)."""
    if not isinstance(result, Result):
        return [f"returns {type(result).__name__}, not a workbench Result"]
    bad: list[str] = []
    s = result.summary
    if not isinstance(s, pd.DataFrame):
        return [f"summary is {type(s).__name__}, not a DataFrame"]
    aliases = sorted(ALIASES & {str(c).lower() for c in s.columns})
    if aliases:
        bad.append(f"summary uses alias column names {aliases} (use ci_lower/ci_upper/p_value/se)")
    if result.key is None or (len(s) and result.key not in s.columns):
        bad.append(f"key column {result.key!r} is not declared or not in the summary")
    if {"estimate", "ci_lower", "ci_upper"} <= set(s.columns) and len(s):
        est, lo, hi = (
            pd.to_numeric(s[c], errors="coerce") for c in ("estimate", "ci_lower", "ci_upper")
        )
        ok = (
            est.notna()
            & lo.notna()
            & hi.notna()
            & np.isfinite(est)
            & np.isfinite(lo)
            & np.isfinite(hi)
        )
        tol = 1e-9 * np.maximum(1.0, est.abs())
        outside = ok & ((est < lo - tol) | (est > hi + tol))
        if outside.any():
            i = int(np.flatnonzero(outside.to_numpy())[0])
            bad.append(
                f"{int(outside.sum())} row(s) with the estimate outside its interval (row {i}: "
                f"{est.iloc[i]:.4g} not in [{lo.iloc[i]:.4g}, {hi.iloc[i]:.4g}]): different scales?"
            )
    elif "ci_lower" in s.columns and "estimate" not in s.columns:
        bad.append("summary has an interval (ci_lower) without an `estimate` column")
    missing = [k for k in REQUIRED_META if k not in result.meta]
    if missing:
        bad.append(f"meta lacks {missing}")
    empty = [k for k in ("n", "method", "fingerprint") if result.meta.get(k) in (None, "")]
    if empty:
        bad.append(f"meta leaves {empty} empty")
    refs, excl = result.meta.get("reference_levels"), result.meta.get("exclusions")
    if "reference_levels" in result.meta and not isinstance(refs, dict):
        bad.append(f"meta['reference_levels'] is {type(refs).__name__}, not a dict column -> level")
    if "exclusions" in result.meta and not (
        isinstance(excl, list)
        and all(isinstance(e, dict) and isinstance(e.get("n_rows"), int) for e in excl)
    ):
        bad.append(f"meta['exclusions'] is not a list of dicts with an integer n_rows: {excl!r}")
    if alpha is not None and result.meta.get("alpha") != alpha:
        bad.append(f"meta['alpha'] is {result.meta.get('alpha')!r}, not the alpha passed ({alpha})")
    rec = result.to_record()
    if not isinstance(rec, dict) or "meta" not in rec or "summary" not in rec:
        bad.append(f"to_record() gives {type(rec).__name__} without 'summary' and 'meta'")
    try:
        text = json.dumps(rec, allow_nan=False)
    except (TypeError, ValueError) as exc:
        bad.append(f"to_record() is not JSON-safe: {exc}")
        text = ""
    try:
        html = result._repr_html_()
    except Exception as exc:  # a result that cannot show itself in a notebook
        bad.append(f"_repr_html_() raises {type(exc).__name__}: {exc}")
        html = ""
    if alpha is not None and not math.isclose(alpha, 0.05):
        for where, t in (("HTML", html), ("record", text)):
            if LITERAL_95.search(t):
                bad.append(f"a literal '95%' in the {where} although alpha={alpha}")
    return bad


@pytest.mark.slow
@pytest.mark.parametrize("name", [_param(n) for n in RECIPE_NAMES])
def test_result_contract(name):
    recipe = _recipes()[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = recipe()
    fn = importlib.import_module(f"workbench.{name.split('.')[0]}")
    for part in name.split(".")[1:]:
        fn = getattr(fn, part)
    # methods of a study take alpha from the study (built with ALPHA)
    takes_alpha = "alpha" in inspect.signature(fn).parameters or name.count(".") == 2
    violations = contract_violations(result, alpha=ALPHA if takes_alpha else None)
    assert not violations, f"{name}: " + "; ".join(violations)


# ------------------------------------------------------------------------ the checker itself
def _good():
    from workbench.results import standard_meta

    s = pd.DataFrame({"term": ["x"], "estimate": [0.5], "ci_lower": [0.2], "ci_upper": [0.9]})
    return Result(s, standard_meta(pd.DataFrame({"a": [1]}), alpha=0.1, method="m"))


def test_checker_accepts_a_conforming_result():
    assert contract_violations(_good(), alpha=0.1) == []


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (
            lambda r: r.summary.assign(ci_lower=[1.2], ci_upper=[2.0]),
            "estimate outside its interval",
        ),
        (lambda r: r.summary.rename(columns={"ci_lower": "lower"}), "alias column names"),
        (lambda r: r.summary.drop(columns="term"), "key column"),
    ],
)
def test_checker_catches_summary_breakage(breakage, message):
    r = _good()
    r.summary = breakage(r)
    assert any(message in v for v in contract_violations(r, alpha=0.1))


def test_checker_catches_meta_and_label_breakage():
    r = _good()
    del r.meta["fingerprint"]
    assert any("meta lacks ['fingerprint']" in v for v in contract_violations(r, alpha=0.1))
    r = _good()
    r.warnings.append("see the 95% CI")
    assert any("literal '95%'" in v for v in contract_violations(r, alpha=0.1))
    r = _good()
    assert any("not the alpha passed" in v for v in contract_violations(r, alpha=0.05))
    r = _good()
    r.meta["exclusions"] = [{"reason": "missing tenure"}]  # how many rows?
    assert any("integer n_rows" in v for v in contract_violations(r, alpha=0.1))
    r = _good()
    r.meta["reference_levels"] = ["contract"]
    assert any("not a dict" in v for v in contract_violations(r, alpha=0.1))
