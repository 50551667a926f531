"""sBG fits per joining cohort (Fader & Hardie 2007), and simulated sBG survivor counts.

References
----------
Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. *Journal of Interactive
Marketing*, 21(1), 76-90.
Fader, P. S. & Hardie, B. G. S. (2010). Customer-base valuation in a contractual setting: the
perils of ignoring heterogeneity. *Marketing Science*, 29(1), 85-93.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..columns import check_alpha, column_name, resolve
from ..exceptions import ModelError, SmallSampleWarning, UnavailableWarning
from ..results import Result, standard_meta
from .sbg import (
    MIN_COHORT_SIZE,
    SBGResult,
    _check_discount,
    fit_sbg,
    fit_sbg_customers,
    sbg_retention_rate,
)

__all__ = ["SBGCohortsResult", "fit_sbg_cohorts", "simulate_sbg_survivors"]


class SBGCohortsResult(Result):
    """sBG fits per joining cohort: ``summary`` (cohort, alpha, beta, log_likelihood, n, periods, ...)."""

    title = "sBG fits by joining cohort"
    key = "cohort"

    def __init__(self, summary, fits, meta, warnings_):
        self.fits = fits
        super().__init__(summary, meta, warnings=warnings_)

    def derl(self, discount_rate_yearly: float, renewals=(0,)) -> pd.DataFrame:
        """DERL per cohort with CIs; the yearly discount rate is converted to the model's period
        (``(1 + r)^(period_months / 12) - 1``). Multiply by the margin per period for residual value."""
        _check_discount(discount_rate_yearly, "discount_rate_yearly")
        months = float(self.meta.get("period_length", 1.0))
        d = (1.0 + float(discount_rate_yearly)) ** (months / 12.0) - 1.0
        parts = []
        for label, r in self.fits.items():
            t = r.derl(d, renewals)
            t.insert(0, "cohort", label)
            parts.append(t)
        out = pd.concat(parts, ignore_index=True)
        out["period_months"] = months
        out["discount_rate_per_period"] = d
        return out

    def plot(self, ax=None, **kwargs):
        from ..plotting.value import plot_sbg_cohorts

        return plot_sbg_cohorts(self, ax=ax, **kwargs)


def fit_sbg_cohorts(
    data,
    *,
    start_col: str | None = None,
    duration_col: str | None = None,
    event_col: str | None = None,
    cohort: str = "year",
    period_length: float = 1.0,
    analysis_date=None,
    min_cohort_size: int = MIN_COHORT_SIZE,
    alpha: float = 0.05,
) -> SBGCohortsResult:
    """Fit the sBG model to each joining cohort's survivor counts (from :func:`cohort_survivors`).

    Without a start-date column (e.g. Telco) all customers are fitted as one cohort from their
    renewals (:func:`fit_sbg_customers`) and a warning says so. Cohorts smaller than
    ``min_cohort_size`` or with fewer than 2 fully observed periods are skipped, listed in the
    warnings and in ``meta['skipped']``.
    """
    from ..retention import cohort_survivors

    check_alpha(alpha)
    r_all = resolve(
        data, duration_col=duration_col, event_col=event_col, covariates=[], func="fit_sbg_cohorts"
    )
    f = r_all.frame
    cols = {
        "duration": r_all.columns["duration_col"],
        "event": r_all.columns["event_col"],
        "start": column_name(
            data,
            start_col,
            argument="start_col",
            role="start_date",
            required=False,
            func="fit_sbg_cohorts",
        ),
    }
    meta = standard_meta(
        r_all, alpha=alpha, method="sBG maximum likelihood per cohort", period_length=period_length
    )
    warns: list[str] = []
    fits: dict[str, SBGResult] = {}
    rows = []
    if cols.get("start") is None:
        msg = (
            "no start-date column: the sBG model is fitted to all customers as one cohort from their "
            "renewals, as if every customer were followed from joining (cross-sectional data may be "
            "left-truncated)."
        )
        warnings.warn(msg, UnavailableWarning, stacklevel=2)
        warns.append(msg)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = fit_sbg_customers(
                f,
                duration_col=cols["duration"],
                event_col=cols["event"],
                period_length=period_length,
                alpha=alpha,
                cohort="all customers",
                tenure_unit=r_all.unit,
            )
        _rewarn(caught, warns)
        fits["all customers"] = r
        rows.append(_sbg_row(r, "all customers"))
        meta.update(method=r.meta["method"], skipped=[], converged=r.meta["converged"])
        return SBGCohortsResult(pd.DataFrame(rows), fits, meta, warns)
    counts = cohort_survivors(
        f,
        start_col=cols["start"],
        duration_col=cols["duration"],
        event_col=cols["event"],
        cohort=cohort,
        period_length=period_length,
        analysis_date=analysis_date,
        tenure_unit=r_all.unit,
    )
    skipped = []
    for label, s in counts.items():
        s = np.asarray(s, dtype=float)
        if s.size < 3 or s[0] < min_cohort_size or s[0] == s[-1]:
            skipped.append(str(label))
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = fit_sbg(s, alpha=alpha, cohort=str(label))
        _rewarn(caught, warns)
        fits[str(label)] = r
        rows.append(_sbg_row(r, str(label)))
    if skipped:
        msg = (
            f"{len(skipped)} cohort(s) not fitted (fewer than {min_cohort_size} customers, fewer than 2 "
            f"fully observed periods, or no churn): {', '.join(skipped)}."
        )
        warnings.warn(msg, SmallSampleWarning, stacklevel=2)
        warns.append(msg)
    if not rows:
        raise ModelError(
            f"no cohort could be fitted: every cohort has fewer than {min_cohort_size} customers or fewer "
            "than 2 fully observed periods. Use a coarser `cohort` ('year'), a shorter `period_length`, or "
            "lower `min_cohort_size`."
        )
    meta.update(skipped=skipped, converged=all(r.meta["converged"] for r in fits.values()))
    return SBGCohortsResult(pd.DataFrame(rows), fits, meta, warns)


def _sbg_row(r: SBGResult, label: str) -> dict:
    """One cohort's row; the fitted retention rate at the first and the last observed period."""
    s = r.summary.set_index("term")
    periods = r.meta["periods"]
    return {
        "cohort": label,
        "alpha": r.alpha_,
        "beta": r.beta_,
        "log_likelihood": r.log_likelihood_,
        "mean_churn": s.loc["mean_churn", "estimate"],
        "alpha_ci_lower": s.loc["alpha", "ci_lower"],
        "alpha_ci_upper": s.loc["alpha", "ci_upper"],
        "beta_ci_lower": s.loc["beta", "ci_lower"],
        "beta_ci_upper": s.loc["beta", "ci_upper"],
        "n": r.meta["n"],
        "periods": r.meta.get("periods", np.nan),
        "converged": bool(r.meta["converged"]),
        "retention_first_period": float(sbg_retention_rate(1, r.alpha_, r.beta_)),
        "retention_last_period": float(sbg_retention_rate(max(int(periods), 1), r.alpha_, r.beta_)),
    }


def _rewarn(caught, warns: list) -> None:
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        warns.append(str(w.message))


def simulate_sbg_survivors(
    alpha: float, beta: float, cohort_size: int, periods: int, seed: int = 0
) -> np.ndarray:
    """Survivor counts ``[n_0, ..., n_periods]`` of a cohort simulated from the sBG model."""
    rng = np.random.default_rng(seed)
    theta = rng.beta(alpha, beta, size=cohort_size)
    life = rng.geometric(np.clip(theta, 1e-12, 1.0))  # period of churn, 1, 2, ...
    return np.array([(life > t).sum() for t in range(periods + 1)], dtype=float)
