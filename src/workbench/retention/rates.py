"""Churn and retention rates per calendar period, by cause and by segment; the referral rate.

Each result's ``estimate`` column is the rate its interval (``ci_lower``, ``ci_upper``) belongs to;
``meta["estimand"]`` says in words what it is.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from ..columns import MAX_GROUPS, check_alpha, column_name, is_categorical, resolve_frame
from ..exceptions import ParameterError, UnavailableWarning
from ..results import standard_meta
from ._common import (
    PERIODS,
    CauseResult,
    RatesResult,
    dates,
    from_counts,
    groups_of,
    meta_of,
    poisson_ci,
    resolve_retention,
    unavailable,
    wilson,
)

__all__ = ["churn_by_cause", "period_rates", "rates_by_segment", "referral_rate"]

PERIOD_COLUMNS = [
    "period",
    "period_start",
    "period_end",
    "complete",
    "customers_at_risk",
    "churned",
    "estimate",
    "ci_lower",
    "ci_upper",
    "retention_rate",
    "joined",
    "joined_and_churned",
]


def period_rates(
    data,
    *,
    period: str = "quarter",
    duration_col: str | None = None,
    event_col: str | None = None,
    start_col: str | None = None,
    analysis_date=None,
    tenure_unit: str | None = None,
    alpha: float = 0.05,
    weights_col: str | None = None,
) -> RatesResult:
    """Churn and retention rate per calendar period with at-risk denominators.

    Rule: at risk = customers active at the period's start; joiners within the period are reported in
    ``joined`` / ``joined_and_churned`` and are not in the denominator (see the package docstring).

    Parameters
    ----------
    data : Dataset or DataFrame
    period : {'month', 'quarter', 'year'}
    duration_col, event_col, start_col : str
        Tenure, churned (0/1) and joining date; default from the Dataset's spec. Without a start date
        the whole observation window is one period (at risk = every customer) and a warning says so.
    analysis_date : date-like, optional
        End of observation (default: the latest end of follow-up in the data).
    tenure_unit : {'days', 'weeks', 'months', 'years'}, optional
        Default from the spec, else months.
    alpha : float
    weights_col : str, optional
        Frequency weights: whole numbers of customers per row (the ``count`` of
        :func:`workbench.aggregate.counts`); the rates then equal those of the expanded rows.

    Returns
    -------
    RatesResult
        ``summary``: ``period, period_start, period_end, complete, customers_at_risk, churned,
        estimate`` (the churn rate), ``ci_lower, ci_upper`` (Wilson), ``retention_rate, joined,
        joined_and_churned``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"start": pd.to_datetime(["2024-01-01"] * 4), "tenure": [1.0, 4.0, 7.0, 7.0],
    ...                    "churned": [1, 1, 0, 0]})
    >>> r = period_rates(df, duration_col="tenure", event_col="churned", start_col="start",
    ...                  analysis_date="2024-07-31")
    >>> r.summary[["period", "customers_at_risk", "churned"]].values.tolist()
    [['2024Q1', 0, 0], ['2024Q2', 3, 1], ['2024Q3', 2, 0]]
    """
    check_alpha(alpha)
    if period not in PERIODS:
        raise ParameterError(f"`period` must be one of {list(PERIODS)}, got {period!r}.")
    agg = from_counts(
        data,
        "period_rates",
        duration_col=duration_col,
        event_col=event_col,
        not_from_counts={"weights_col": weights_col},
        period=period,
        start_col=start_col,
        analysis_date=analysis_date,
        tenure_unit=tenure_unit,
        alpha=alpha,
    )
    if agg is not None:
        return agg
    r, cols = resolve_retention(
        data,
        func="period_rates",
        duration_col=duration_col,
        event_col=event_col,
        start_col=start_col,
        tenure_unit=tenure_unit,
        weights_col=weights_col,
    )
    f = r.frame
    ev = r.event.astype(bool)
    w = cols["w"]
    estimand = "churn rate per period: churned in the period / customers active at its start"
    warns: list[str] = []
    if cols["start"] is None:
        msg = (
            "no start-date column (spec role `start_date`): calendar periods cannot be built, so the "
            "whole observation window is one period with every customer at risk."
        )
        warnings.warn(msg, UnavailableWarning, stacklevel=2)
        warns.append(msg)
        n, k = int(round(w.sum())), int(round(w[ev].sum()))
        lo, hi = wilson(k, n, alpha)
        row = {
            "period": "observation window",
            "period_start": None,
            "period_end": None,
            "complete": True,
            "customers_at_risk": n,
            "churned": k,
            "estimate": k / n,
            "ci_lower": float(lo),
            "ci_upper": float(hi),
            "retention_rate": 1 - k / n,
            "joined": np.nan,
            "joined_and_churned": np.nan,
        }
        return RatesResult(
            pd.DataFrame([row], columns=PERIOD_COLUMNS),
            meta_of(
                r,
                alpha=alpha,
                method="crude proportion over one window; Wilson CI",
                estimand="share of customers who churned during the observation window",
                rule="at risk = every customer in the data",
            ),
            warnings=warns,
            key="period",
        )
    start, end, _, adate = dates(f, cols, analysis_date)
    freq = PERIODS[period]
    prange = pd.period_range(start.min().to_period(freq), adate.to_period(freq), freq=freq)
    rows = []
    s, e = start.to_numpy(), end.to_numpy()
    for p in prange:
        p0, p1 = p.start_time.to_datetime64(), (p.end_time + pd.Timedelta(1, "ns")).to_datetime64()
        at_risk = (s < p0) & (e >= p0)
        churned = at_risk & ev & (e < p1)
        joined = (s >= p0) & (s < p1)
        j_churn = joined & ev & (e < p1)
        n, k = int(round(w[at_risk].sum())), int(round(w[churned].sum()))
        lo, hi = wilson(k, n, alpha) if n else (np.nan, np.nan)
        rows.append(
            {
                "period": str(p),
                "period_start": p.start_time.date().isoformat(),
                "period_end": p.end_time.date().isoformat(),
                "complete": bool(adate >= p.end_time.normalize()),
                "customers_at_risk": n,
                "churned": k,
                "estimate": k / n if n else np.nan,
                "ci_lower": float(lo),
                "ci_upper": float(hi),
                "retention_rate": 1 - k / n if n else np.nan,
                "joined": int(round(w[joined].sum())),
                "joined_and_churned": int(round(w[j_churn].sum())),
            }
        )
    out = pd.DataFrame(rows, columns=PERIOD_COLUMNS)
    incomplete = out.loc[~out["complete"], "period"].tolist()
    if incomplete:
        warns.append(
            f"period(s) {', '.join(incomplete)} end after the analysis date "
            f"{adate.date()}: their rates cover part of the period only."
        )
    return RatesResult(
        out,
        meta_of(
            r,
            alpha=alpha,
            method="at risk = active at period start; Wilson CIs",
            estimand=estimand,
            period=period,
            analysis_date=adate.date().isoformat(),
            rule="joiners within a period are outside its denominator; their churn in "
            "the same period is in joined_and_churned",
        ),
        warnings=warns,
        key="period",
    )


def churn_by_cause(
    data,
    *,
    cause_col: str | None = None,
    duration_col: str | None = None,
    event_col: str | None = None,
    group_col: str | None = None,
    tenure_unit: str | None = None,
    alpha: float = 0.05,
    weights_col: str | None = None,
) -> CauseResult:
    """Churn by cause: count, share of churners, share of customers and person-time rate.

    ``estimate`` = churners of the cause / all churners (Wilson CI ``ci_lower``, ``ci_upper``);
    ``proportion`` = churners of the cause / customers; ``rate_per_100_months`` = churners of the
    cause / customer-months of exposure x 100 (exact Poisson CI): the cause-specific hazard averaged
    over follow-up. Churners without a cause are a row ``(unknown)``, never dropped. Without a cause
    column (spec role ``churn_type``) the result is empty and says so. ``weights_col``: frequency
    weights (whole numbers of customers per row, e.g. the cells of :func:`workbench.aggregate.counts`).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [1.0, 2.0, 3.0], "e": [1, 1, 0], "why": ["price", "price", None]})
    >>> churn_by_cause(df, cause_col="why", duration_col="t", event_col="e").summary["estimate"].tolist()
    [1.0]
    """
    check_alpha(alpha)
    agg = from_counts(
        data,
        "churn_by_cause",
        duration_col=duration_col,
        event_col=event_col,
        cause_col=cause_col,
        not_from_counts={"weights_col": weights_col},
        group_col=group_col,
        tenure_unit=tenure_unit,
        alpha=alpha,
    )
    if agg is not None:
        return agg
    r, cols = resolve_retention(
        data,
        func="churn_by_cause",
        duration_col=duration_col,
        event_col=event_col,
        cause_col=cause_col,
        group_col=group_col,
        tenure_unit=tenure_unit,
        weights_col=weights_col,
    )
    f, w_all = r.frame, cols["w"]
    columns = [
        "cause",
        "churned",
        "estimate",
        "ci_lower",
        "ci_upper",
        "proportion",
        "rate_per_100_months",
        "rate_ci_lower",
        "rate_ci_upper",
    ]
    meta = meta_of(
        r,
        alpha=alpha,
        method="shares (Wilson) and person-time rates (exact Poisson)",
        estimand="share of churners who left for the cause",
        cause_col=cols["cause"],
        group_col=cols["group"],
    )
    if cols["cause"] is None:
        return unavailable(
            CauseResult,
            "Churn by cause",
            "no churn-cause column: churn by cause is unavailable; name the cause column in the "
            "spec's `churn_type` role (or pass cause_col=) to enable it.",
            columns,
            meta,
        )
    t_all, e_all = cols["months"], r.event.astype(bool)
    cause_all = (
        f[cols["cause"]].astype("object").where(f[cols["cause"]].notna(), "(unknown)").to_numpy()
    )
    rows = []
    for lvl, m in groups_of(f, cols["group"]):
        t, e, cause, w = t_all[m], e_all[m], cause_all[m], w_all[m]
        n_ch = int(round(w[e].sum()))
        expo = float(w @ t)
        if cols["weights"] is None:
            counts = pd.Series(cause[e]).value_counts()
        else:  # customers per cause; ties in alphabetical order
            counts = pd.Series(w[e]).groupby(cause[e]).sum().round().astype(np.int64)
            counts = counts[counts > 0].sort_values(ascending=False, kind="stable")
        for c, k in counts.items():
            lo, hi = wilson(k, n_ch, alpha)
            rlo, rhi = poisson_ci(k, expo, alpha)
            row = {
                "cause": str(c),
                "churned": int(k),
                "estimate": k / n_ch,
                "ci_lower": float(lo),
                "ci_upper": float(hi),
                "proportion": k / w.sum(),
                "rate_per_100_months": 100 * k / expo,
                "rate_ci_lower": 100 * float(rlo),
                "rate_ci_upper": 100 * float(rhi),
            }
            if cols["group"]:
                row = {"group": lvl, **row}
            rows.append(row)
    return CauseResult(
        pd.DataFrame(rows, columns=(["group"] if cols["group"] else []) + columns), meta
    )


def rates_by_segment(
    data,
    *,
    group_col: str | None = None,
    duration_col: str | None = None,
    event_col: str | None = None,
    tenure_unit: str | None = None,
    alpha: float = 0.05,
    max_groups: int = MAX_GROUPS,
    weights_col: str | None = None,
) -> RatesResult:
    """Churn by segment: customers, churned, crude proportion and monthly person-time churn rate.

    ``group_col`` defaults to the spec's ``segment``, else the first categorical switching cost (said
    in the caveats); without either the result is empty and says so. ``estimate`` = churned / customer-months, the
    monthly churn rate (exact Poisson CI ``ci_lower``, ``ci_upper``), comparable across segments with
    different follow-up (a segment column with more than ``max_groups`` levels, a continuous one, the id or
    a personal column is refused before counting); ``implied_12m_retention`` = ``exp(-12 * estimate)`` assumes a constant hazard
    and is labelled as such in ``meta``. Customers without a segment are excluded, counted and warned.
    ``weights_col``: frequency weights (whole numbers of customers per row, e.g. the cells of
    :func:`workbench.aggregate.counts`).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [10.0, 10.0, 5.0, 5.0], "e": [1, 0, 1, 1], "plan": list("aabb")})
    >>> rates_by_segment(df, group_col="plan", duration_col="t", event_col="e").summary["estimate"].tolist()
    [0.05, 0.2]
    """
    check_alpha(alpha)
    agg = from_counts(
        data,
        "rates_by_segment",
        duration_col=duration_col,
        event_col=event_col,
        not_from_counts={"weights_col": weights_col},
        group_col=group_col,
        tenure_unit=tenure_unit,
        alpha=alpha,
        max_groups=max_groups,
    )
    if agg is not None:
        return agg
    group_col = column_name(
        data,
        group_col,
        argument="group_col",
        role="segment",
        required=False,
        func="rates_by_segment",
    )
    fallback = None
    if group_col is None:
        group_col = fallback = _switching_cost_group(data, max_groups)
    if group_col is None:
        return unavailable(
            RatesResult,
            "Churn by segment",
            "no segment column: churn by segment is unavailable; name it in the spec's `segment` "
            "role (or pass group_col=, notebook parameter `group_by`) to enable it.",
            ["group", "customers", "churned", "estimate", "ci_lower", "ci_upper"],
            standard_meta(
                data,
                alpha=alpha,
                method="person-time rate (exact Poisson CI)",
                estimand="monthly churn rate: churned / customer-months",
                group_col=None,
            ),
            key="group",
        )
    r, cols = resolve_retention(
        data,
        func="rates_by_segment",
        duration_col=duration_col,
        event_col=event_col,
        group_col=group_col,
        tenure_unit=tenure_unit,
        max_groups=max_groups,
        weights_col=weights_col,
    )
    t, e, w = cols["months"], r.event.astype(bool), cols["w"]
    rows = []
    for lvl, m in groups_of(r.frame, group_col):
        n, k = int(round(w[m].sum())), int(round(w[m & e].sum()))
        expo = float(w[m] @ t[m])
        lo, hi = wilson(k, n, alpha)
        rlo, rhi = poisson_ci(k, expo, alpha)
        rate = k / expo if expo > 0 else np.nan
        rows.append(
            {
                "group": str(lvl),
                "customers": n,
                "churned": k,
                "proportion": k / n,
                "proportion_ci_lower": float(lo),
                "proportion_ci_upper": float(hi),
                "customer_months": expo,
                "estimate": rate,
                "ci_lower": float(rlo),
                "ci_upper": float(rhi),
                "implied_12m_retention": math.exp(-12 * rate) if np.isfinite(rate) else np.nan,
            }
        )
    notes = list(r.messages)
    if fallback is not None:
        notes.append(
            f"the data have no segment role: churn is shown by the first categorical switching cost, "
            f"'{fallback}' (set the spec's `segment` role or pass group_col= to choose)."
        )
    return RatesResult(
        pd.DataFrame(rows),
        meta_of(
            r,
            alpha=alpha,
            method="person-time rate (exact Poisson CI); implied 12-month "
            "retention assumes a constant hazard",
            estimand="monthly churn rate: churned / customer-months",
            group_col=group_col,
        ),
        warnings=notes,
        title=f"Churn by {group_col}",
        key="group",
    )


def _switching_cost_group(data, max_groups: int) -> str | None:
    """The first switching-cost column of the spec that is categorical with at most ``max_groups``
    levels (the segment to fall back on when the spec names none), else ``None``."""
    frame, spec = resolve_frame(data)
    if spec is None:
        return None
    for c in getattr(spec, "switching_costs", None) or []:
        if c in frame.columns and c not in (getattr(spec, "personal", None) or []):
            s = frame[c]
            if (is_categorical(s) or c in (spec.categorical or {})) and s.nunique() <= max_groups:
                return c
    return None


def referral_rate(
    data, *, referral_col: str | None = None, group_col: str | None = None, alpha: float = 0.05
) -> RatesResult:
    """Referral rate: share of customers who recommended at least one other customer (Wilson CI).

    ``referral_col`` holds a count of referrals or a yes/no flag; default: the first of
    ``n_referrals``, ``number_of_referrals``, ``referred_a_friend`` present. Without one the result
    says it is unavailable.

    Examples
    --------
    >>> import pandas as pd
    >>> referral_rate(pd.DataFrame({"n_referrals": [0, 2, 1, 0]})).summary["estimate"].tolist()
    [0.5]
    """
    check_alpha(alpha)
    from ..aggregate.dataset import is_aggregated

    if is_aggregated(data):
        return unavailable(
            RatesResult,
            "Referral rate",
            "Referral rate is not available from aggregated counts (dataset: parquet / duckdb): "
            "it reads each customer's referral column; run notebook 01 with dataset: file for it.",
            ["group", "customers", "referrers", "estimate", "ci_lower", "ci_upper"],
            standard_meta(data, alpha=alpha, method="not computed", n=data.n, events=data.events),
            key="group",
        )
    frame, _ = resolve_frame(data, func="referral_rate")
    if referral_col is None:
        referral_col = next(
            (
                c
                for c in ("n_referrals", "number_of_referrals", "referred_a_friend")
                if c in frame.columns
            ),
            None,
        )
    group_col = column_name(
        data, group_col, argument="group_col", required=False, func="referral_rate"
    )
    columns = ["group", "customers", "referrers", "estimate", "ci_lower", "ci_upper"]
    meta = standard_meta(
        data,
        alpha=alpha,
        method="share of customers with >= 1 referral (Wilson CI)",
        estimand="share of customers who referred at least one other customer",
        referral_col=referral_col,
    )
    if referral_col is None:
        return unavailable(
            RatesResult,
            "Referral rate",
            "no referral column: the referral rate is unavailable; pass referral_col= (a count or "
            "yes/no column such as 'n_referrals') to enable it.",
            columns,
            meta,
            key="group",
        )
    column_name(data, referral_col, argument="referral_col", func="referral_rate")
    s = frame[referral_col]
    if s.dtype == object or isinstance(s.dtype, pd.CategoricalDtype):
        flag = s.astype(str).str.lower().isin(["yes", "true", "1"]).to_numpy()
    else:
        flag = (pd.to_numeric(s, errors="coerce").fillna(0) > 0).to_numpy()
    groups = [("all", np.ones(len(frame), bool))]
    if group_col:
        groups += [(str(lvl), m) for lvl, m in groups_of(frame, group_col)]
    rows = []
    for lvl, m in groups:
        n, k = int(m.sum()), int(flag[m].sum())
        lo, hi = wilson(k, n, alpha)
        rows.append(
            {
                "group": lvl,
                "customers": n,
                "referrers": k,
                "estimate": k / n,
                "ci_lower": float(lo),
                "ci_upper": float(hi),
            }
        )
    return RatesResult(
        pd.DataFrame(rows, columns=columns), meta, title="Referral rate", key="group"
    )
