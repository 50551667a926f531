"""Result classes of the effect estimates (see :class:`~workbench.results.Result`)."""

from __future__ import annotations

from ..results import Result


class EffectResult(Result):
    """Effect estimates: arm, estimand, horizon, estimate, se, ci_lower, ci_upper, p_value, method, unit.

    Estimands: ``survival_arm`` / ``survival_control`` / ``survival_difference`` / ``survival_ratio`` /
    ``nnt`` at each horizon (months), ``rmst_arm`` / ``rmst_control`` / ``rmst_difference`` up to tau
    (months of customer life), ``incremental_revenue`` (RMST difference x mean margin per month, in
    the data's money units per customer over tau months) and ``hazard_ratio``.
    ``tables['curves']``: arm, group, time, survival, ci_lower, ci_upper, n_at_risk (unweighted).
    ``plot()`` draws the survival curves with CIs and the unweighted numbers at risk.
    """

    title = "Intervention effects on retention"
    key = "estimand"

    def plot(self, ax=None, **kwargs):
        from ..plotting.effects import plot_effect_curves

        return plot_effect_curves(self, ax=ax, **kwargs)


class SpecificationCheckResult(Result):
    """The effect under several confounder specifications, side by side.

    ``summary``: arm, estimand, horizon, method, specification, estimate, se, ci_lower, ci_upper,
    shift (estimate minus the study specification's), shift_in_se (shift over the study
    specification's AIPW standard error), material (``|shift_in_se| > 0.5``).
    """

    title = "Specification check"
    key = "estimand"


def study_reference_levels(study) -> dict:
    """The reference levels behind a study's contrasts and models, for ``meta["reference_levels"]``.

    The treatment column's control arm (every contrast is an arm against it), then, for each
    confounder the propensity and outcome specification enters as categories (a category, or a
    number with few distinct values under the flexible rule), its first level: the level the
    indicator columns are contrasted with (R's rule, see
    :mod:`workbench.effects.specification`). Confounders entered as numbers or splines have none.
    """
    refs = {study.treatment_col: study.control_label_}
    if study.confounders:
        for term in study.specification_().terms:
            if term.kind in ("category", "levels") and term.levels:
                refs[term.column] = term.levels[0]
    return refs


def derived_meta(source: Result, *, method: str, **extra) -> dict:
    """Meta of a result computed from another result (E-values, a sample size planned from an
    estimate): the contract keys of the data behind ``source`` (n, events, alpha, fingerprint,
    exclusions, reference levels), then ``method`` and ``extra``."""
    from ..results import standard_meta

    m = source.meta
    return standard_meta(
        alpha=m.get("alpha"),
        method=method,
        n=m.get("n"),
        events=m.get("events"),
        exclusions=list(m.get("exclusions") or []),
        reference_levels=dict(m.get("reference_levels") or {}),
        fingerprint=m.get("fingerprint"),
        **extra,
    )
