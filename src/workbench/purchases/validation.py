"""Calibration / holdout validation the way Fader & Hardie show it, and model comparison by holdout fit.

* :func:`tracking`: cumulative repeat purchases per period (weekly for CDNOW) against the model's
  expectation ``sum_i E[X(t - b_i)]`` over customers who joined at ``b_i``, through calibration and
  holdout; error measures on the holdout part (mean absolute percentage error of the cumulative
  curve, error of the holdout total).
* :func:`conditional_expectations`: mean holdout purchases by calibration frequency (0, 1, ...,
  ``max_frequency``+) against the mean conditional expectation ``E[Y(holdout) | x, t_x, T]``.
* :func:`compare_models`: log likelihood, AIC / BIC and customer-level holdout errors (MAE, RMSE,
  correlation) side by side.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way.
*Marketing Science*, 24(2), 275-284 (figures 1-4).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import ModelError
from ..results import Result
from ._mle import PurchaseModelResult, complete_meta, summary_data
from .summary import CustomerSummary

__all__ = [
    "TrackingResult",
    "ConditionalExpectationResult",
    "ModelComparisonResult",
    "tracking",
    "conditional_expectations",
    "holdout_errors",
    "compare_models",
]


class TrackingResult(Result):
    """``tables['tracking']``: period, actual / expected per period and cumulative; ``summary``: errors."""

    title = "Tracking of cumulative repeat purchases"

    def plot(self, ax=None, **kwargs):
        from ..plotting.purchases import plot_tracking

        return plot_tracking(self, ax=ax, **kwargs)


class ConditionalExpectationResult(Result):
    """``summary`` per calibration-frequency group: ``n``, ``actual``, ``estimate`` (expected)."""

    title = "Conditional expectations of holdout purchases"

    def plot(self, ax=None, **kwargs):
        from ..plotting.purchases import plot_conditional_expectations

        return plot_conditional_expectations(self, ax=ax, **kwargs)


class ModelComparisonResult(Result):
    """One row per model: fit (loglik, AIC, BIC) and holdout errors."""

    title = "Model comparison by holdout fit"


def _need_holdout(summary) -> pd.DataFrame:
    if not isinstance(summary, CustomerSummary):
        raise ModelError(
            f"validation needs the CustomerSummary from rfm_summary (with its holdout), got {type(summary).__name__}."
        )
    c = summary.customers
    if "frequency_holdout" not in c or c["frequency_holdout"].isna().all():
        raise ModelError(
            "the summary has no holdout counts: build it with rfm_summary(..., observation_end=) after calibration_end."
        )
    return c


def _check_fit(fit):
    if not isinstance(fit, PurchaseModelResult) or not hasattr(fit.model, "expected_purchases"):
        raise ModelError(
            f"expected a purchase-model fit (fit_bgnbd, ...), got {type(fit).__name__}."
        )


def tracking(fit: PurchaseModelResult, summary: CustomerSummary) -> TrackingResult:
    """Actual against expected cumulative repeat purchases, per period of the summary's time unit.

    Parameters
    ----------
    fit : PurchaseModelResult
    summary : CustomerSummary
        With ``tables['tracking']`` (from :func:`rfm_summary` or a simulator).

    Returns
    -------
    TrackingResult
        ``summary`` rows: ``holdout MAPE of the cumulative curve`` (percent), ``holdout purchases:
        actual``, ``holdout purchases: expected``, ``holdout total error`` (percent).
    """
    _check_fit(fit)
    c = _need_holdout(summary)
    tr = summary.tables["tracking"].copy()
    births = c["first_purchase"].to_numpy(float)
    ub, nb = np.unique(births, return_counts=True)
    ends = tr["period_end"].to_numpy(float)
    age = np.clip(ends[:, None] - ub[None, :], 0.0, None)
    expected_cum = (fit.model.expected_purchases(fit.theta, age) * nb[None, :]).sum(axis=1)
    tr["actual_cumulative"] = tr["repeat_purchases"].cumsum()
    tr["expected_cumulative"] = expected_cum
    tr["expected"] = np.diff(np.concatenate([[0.0], expected_cum]))
    tr = tr.rename(columns={"repeat_purchases": "actual"})
    hold = tr["holdout"].to_numpy(bool)
    if hold.any():
        cal_cum_a = tr.loc[~hold, "actual_cumulative"].iloc[-1] if (~hold).any() else 0.0
        cal_cum_e = tr.loc[~hold, "expected_cumulative"].iloc[-1] if (~hold).any() else 0.0
        a_h = float(tr["actual_cumulative"].iloc[-1] - cal_cum_a)
        e_h = float(tr["expected_cumulative"].iloc[-1] - cal_cum_e)
        mape = float(
            np.mean(
                np.abs(tr.loc[hold, "expected_cumulative"] - tr.loc[hold, "actual_cumulative"])
                / tr.loc[hold, "actual_cumulative"]
            )
            * 100
        )
    else:  # pragma: no cover - guarded by _need_holdout
        a_h = e_h = mape = np.nan
    rows = [
        {"term": "holdout MAPE of the cumulative curve (%)", "estimate": mape},
        {"term": "holdout repeat purchases: actual", "estimate": a_h},
        {"term": "holdout repeat purchases: expected", "estimate": e_h},
        {"term": "holdout total error (%)", "estimate": 100 * (e_h - a_h) / a_h if a_h else np.nan},
    ]
    meta = {
        "n": len(c),
        "model": fit.model.name,
        "method": "sum over customers of E[X(t - first purchase)] per period end",
        "time_unit": summary.meta.get("time_unit"),
        "calibration_length": summary.meta.get("calibration_length"),
        "fingerprint": summary.meta.get("fingerprint"),
        "alpha": fit.meta.get("alpha"),
    }
    meta = complete_meta(
        meta, events=int(tr["actual"].sum()), exclusions=summary.meta.get("exclusions")
    )
    return TrackingResult(
        pd.DataFrame(rows), meta, tables={"tracking": tr}, title=f"Tracking: {fit.model.name}"
    )


def _expected_holdout(fit, summary) -> tuple[np.ndarray, np.ndarray]:
    c = _need_holdout(summary)
    data, _ = summary_data(summary)
    t = float(summary.meta["holdout_length"])
    return fit.model.conditional_expected_purchases(fit.theta, t, *data), c[
        "frequency_holdout"
    ].to_numpy(float)


def conditional_expectations(
    fit: PurchaseModelResult, summary: CustomerSummary, *, max_frequency: int = 7
) -> ConditionalExpectationResult:
    """Mean holdout purchases by calibration frequency, actual against expected.

    Parameters
    ----------
    fit, summary
    max_frequency : int
        Frequencies at or above it are pooled into one group (``7+`` as in the paper).
    """
    _check_fit(fit)
    if not isinstance(max_frequency, (int, np.integer)) or max_frequency < 1:
        raise ModelError(f"`max_frequency` must be a positive integer, got {max_frequency!r}.")
    exp, act = _expected_holdout(fit, summary)
    x = summary.customers["frequency"].to_numpy(float)
    grp = np.minimum(x, max_frequency).astype(int)
    rows = []
    for g in range(max_frequency + 1):
        m = grp == g
        if not m.any():
            continue
        a = act[m]
        se = float(a.std(ddof=1) / np.sqrt(m.sum())) if m.sum() > 1 else np.nan
        rows.append(
            {
                "group": f"{g}+" if g == max_frequency else str(g),
                "n": int(m.sum()),
                "actual": float(a.mean()),
                "actual_se": se,
                "estimate": float(exp[m].mean()),
            }
        )
    meta = {
        "n": int(x.size),
        "model": fit.model.name,
        "holdout_length": summary.meta.get("holdout_length"),
        "time_unit": summary.meta.get("time_unit"),
        "method": "mean E[Y(holdout) | x, t_x, T] by calibration frequency",
        "alpha": fit.meta.get("alpha"),
        "fingerprint": summary.meta.get("fingerprint"),
    }
    meta = complete_meta(
        meta,
        events=int(summary.customers["frequency_holdout"].sum()),
        exclusions=summary.meta.get("exclusions"),
    )
    return ConditionalExpectationResult(
        pd.DataFrame(rows), meta, title=f"Conditional expectations: {fit.model.name}"
    )


def holdout_errors(fit: PurchaseModelResult, summary: CustomerSummary) -> dict:
    """Customer-level holdout errors: MAE, RMSE, correlation, totals (actual and expected)."""
    _check_fit(fit)
    exp, act = _expected_holdout(fit, summary)
    return {
        "mae": float(np.mean(np.abs(exp - act))),
        "rmse": float(np.sqrt(np.mean((exp - act) ** 2))),
        "correlation": float(np.corrcoef(exp, act)[0, 1]),
        "holdout_actual": float(act.sum()),
        "holdout_expected": float(exp.sum()),
    }


def compare_models(
    fits: dict[str, PurchaseModelResult], summary: CustomerSummary
) -> ModelComparisonResult:
    """Compare purchase models on the same summary: fit in calibration, errors in the holdout.

    Returns
    -------
    ModelComparisonResult
        ``summary`` columns ``term`` (model), ``loglik``, ``aic``, ``bic``, ``mae``, ``rmse``,
        ``correlation``, ``holdout_actual``, ``holdout_expected``, ``tracking_mape``; ``meta['best']``
        is the model with the smallest holdout MAE.
    """
    if not fits:
        raise ModelError(
            "`fits` is empty: pass e.g. {'BG/NBD': fit_bgnbd(s), 'Pareto/NBD': fit_paretonbd(s)}."
        )
    rows = []
    for name, f in fits.items():
        err = holdout_errors(f, summary)
        tr = tracking(f, summary).summary.set_index("term")["estimate"]
        rows.append(
            {
                "term": name,
                "loglik": f.loglik_,
                "aic": f.meta["aic"],
                "bic": f.meta["bic"],
                **err,
                "tracking_mape": float(tr.iloc[0]),
            }
        )
    table = pd.DataFrame(rows)
    best = str(table.loc[table["mae"].idxmin(), "term"])
    meta = {
        "n": len(summary.customers),
        "best": best,
        "criterion": "customer-level holdout MAE",
        "method": "calibration fit and holdout errors",
        "fingerprint": summary.meta.get("fingerprint"),
        "time_unit": summary.meta.get("time_unit"),
        "holdout_length": summary.meta.get("holdout_length"),
    }
    alphas = {f.meta.get("alpha") for f in fits.values()}
    meta = complete_meta(
        meta,
        alpha=alphas.pop() if len(alphas) == 1 else None,
        events=int(summary.customers["frequency_holdout"].sum()),
        exclusions=summary.meta.get("exclusions"),
    )
    return ModelComparisonResult(table, meta)
