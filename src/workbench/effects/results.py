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
