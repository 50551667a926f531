"""Retention overview: churn, retention and referral rates, lifecycle stages, churn causes, segments
and joining-cohort tables.

Denominators (the rules every function here follows)
----------------------------------------------------
* **Calendar periods** (:func:`period_rates`): the customers *at risk* in a period are those active
  at its start (joined before the period began and not yet gone). ``churn_rate = churned /
  customers_at_risk`` counts only their churn in the period; ``retention_rate = 1 - churn_rate``.
  Customers who join during the period are not in the denominator: they are counted in ``joined``
  and their churn in the same period in ``joined_and_churned`` (reported separately, never mixed in).
  A period cut short by the analysis date is flagged ``complete = False``.
* **Lifecycle stages** (:func:`lifecycle_rates`): a life table over tenure. A customer enters the stage
  ``(a, b]`` months if her tenure exceeds ``a``; ``churn_rate`` is the actuarial stage churn
  probability ``churned / (at_risk - censored / 2)`` (customers censored within the stage count half),
  and ``monthly_churn_rate`` the person-time rate ``churned / customer-months in the stage``.
* **Causes and segments** (:func:`churn_by_cause`, :func:`rates_by_segment`): the share of churners
  and the person-time rate (churn per 100 customer-months of exposure), which is comparable across
  groups followed for different lengths of time; the crude proportion is given beside it.
* **Cohorts** (:func:`cohort_table`): a cohort's cell at ``m`` months since joining is shown only when
  every member could have been observed for ``m`` months (the most recent joiner of the cohort joined at
  least ``m`` months before the analysis date); otherwise it is blank (``NaN``), never counted as churn.

References
----------
Gupta, S., Lehmann, D. R. & Stuart, J. A. (2004). Valuing customers. *Journal of Marketing Research*,
41(1), 7-18 (retention rates per period, cohort views).
Cutler, S. J. & Ederer, F. (1958). Maximum utilization of the life table method in analyzing
survival. *Journal of Chronic Diseases*, 8(6), 699-712 (actuarial life table).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .checks import check_alpha as _check_alpha
from .config import DAYS_PER_MONTH, DAYS_PER_WEEK
from .exceptions import DataValidationError, ParameterError, WorkbenchWarning
from .results import Result

__all__ = [
    "CohortResult",
    "LifecycleResult",
    "RatesResult",
    "UnavailableWarning",
    "churn_by_cause",
    "cohort_table",
    "key_findings",
    "lifecycle_rates",
    "period_rates",
    "rates_by_segment",
    "referral_rate",
]

PERIODS = {"month": "M", "quarter": "Q", "year": "Y"}
DEFAULT_STAGES = (0, 3, 6, 12, 18, 24, 36, 48, 72)


class UnavailableWarning(WorkbenchWarning):
    """An analysis cannot be done on these data (e.g. no start dates for cohorts); the result says so."""


# ------------------------------------------------------------------------------------- helpers
def _to_months_factor(unit: str) -> float:
    return {"months": 1.0, "weeks": DAYS_PER_WEEK / DAYS_PER_MONTH, "days": 1.0 / DAYS_PER_MONTH}[
        unit
    ]


def _frame_and_cols(
    data,
    *,
    duration_col=None,
    event_col=None,
    start_col=None,
    group_col=None,
    cause_col=None,
    need_start=False,
    tenure_unit=None,
    **extra,
) -> tuple[pd.DataFrame, dict]:
    """Resolve column arguments from a Dataset's spec (or require them for a DataFrame) and check them."""
    spec = getattr(data, "spec", None)
    frame = data.frame if spec is not None else data
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(
            f"`data` must be a workbench Dataset or a pandas DataFrame, got {type(data).__name__}."
        )
    cols: dict[str, Any] = {
        "duration": duration_col or (spec.tenure if spec else None),
        "event": event_col or (spec.event if spec else None),
        "start": start_col or (spec.start_date if spec else None),
        "group": group_col,
        "cause": cause_col or (spec.churn_type if spec else None),
    }
    cols.update(extra)
    cols["unit"] = tenure_unit or (spec.tenure_unit if spec else "months")
    if cols["unit"] not in ("months", "weeks", "days"):
        raise ParameterError(
            f"`tenure_unit` must be 'months', 'weeks' or 'days', got {cols['unit']!r}."
        )
    for role in ("duration", "event"):
        if cols[role] is None:
            raise ParameterError(
                f"`{role}_col` is required with a DataFrame (got None). Pass e.g. {role}_col='tenure', "
                "or pass a workbench Dataset whose spec names it."
            )
    if need_start and cols["start"] is None:
        raise ParameterError(
            "`start_col` (the joining date) is required; pass start_col='start_date' or a "
            "Dataset whose spec sets `start_date`."
        )
    for role, c in cols.items():
        if role in ("unit",) or c is None or not isinstance(c, str):
            continue
        if c not in frame.columns:
            import difflib

            close = difflib.get_close_matches(c, [str(x) for x in frame.columns], n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ParameterError(
                f"column '{c}' (`{role}_col`) is not in the data.{hint} "
                f"Columns: {list(frame.columns)[:25]}."
            )
    d = frame[cols["duration"]]
    if not pd.api.types.is_numeric_dtype(d) or d.isna().any() or (d < 0).any():
        raise DataValidationError(
            f"column '{cols['duration']}' (`duration_col`) must be non-negative numbers without gaps; "
            f"got dtype {d.dtype} with {int(d.isna().sum())} missing and {int((pd.to_numeric(d, errors='coerce') < 0).sum())} "
            "negative values. Validate the data first (workbench.data.validate).",
            column=cols["duration"],
            rule="tenure",
        )
    ev = frame[cols["event"]]
    if ev.isna().any() or not set(pd.unique(ev)).issubset({0, 1}):
        raise DataValidationError(
            f"column '{cols['event']}' (`event_col`) must be 0/1; got values {sorted(map(str, pd.unique(ev)))[:6]}.",
            column=cols["event"],
            rule="event 0/1",
        )
    return frame, cols


def _wilson(k, n, alpha):
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / den
    return centre - half, centre + half


def _poisson_ci(k, exposure, alpha):
    """Exact (Garwood) CI of a rate ``k / exposure``."""
    k = np.asarray(k, dtype=float)
    lo = np.where(k > 0, stats.chi2.ppf(alpha / 2, 2 * k) / 2, 0.0)
    hi = stats.chi2.ppf(1 - alpha / 2, 2 * (k + 1)) / 2
    return lo / exposure, hi / exposure


def _dates(frame, cols, analysis_date):
    start = pd.to_datetime(frame[cols["start"]], errors="coerce")
    if start.isna().any():
        raise DataValidationError(
            f"column '{cols['start']}' (`start_col`) has {int(start.isna().sum())} missing or unreadable "
            "date(s). Fix or remove them before building periods or cohorts.",
            column=cols["start"],
            rule="dates",
        )
    months = frame[cols["duration"]].to_numpy(dtype=float) * _to_months_factor(cols["unit"])
    end = start + pd.to_timedelta(months * DAYS_PER_MONTH, unit="D")
    if analysis_date is None:
        adate = end.max().normalize()
        adate = max(adate, end.max())
    else:
        adate = pd.Timestamp(analysis_date)
        if (start > adate).any():
            raise ParameterError(
                f"`analysis_date` {adate.date()} is before {int((start > adate).sum())} joining date(s) "
                f"(latest {start.max().date()}). Use the date the data were extracted."
            )
    return start, end, months, adate


def _unavailable(result_cls, title, msg, columns, **meta):
    warnings.warn(msg, UnavailableWarning, stacklevel=3)
    return result_cls(
        pd.DataFrame(columns=columns), {"available": False, **meta}, warnings=[msg], title=title
    )


# ------------------------------------------------------------------------------------- results
class RatesResult(Result):
    """Churn / retention rates in a tidy table; ``plot()`` draws them."""

    title = "Churn and retention rates"

    def plot(self, ax=None, **kwargs):
        from .plotting.retention import plot_rates

        return plot_rates(self, ax=ax, **kwargs)


class LifecycleResult(RatesResult):
    title = "Churn by lifecycle stage (life table over tenure)"

    def plot(self, ax=None, **kwargs):
        from .plotting.retention import plot_lifecycle

        return plot_lifecycle(self, ax=ax, **kwargs)


class CauseResult(RatesResult):
    title = "Churn by cause"

    def plot(self, ax=None, **kwargs):
        from .plotting.retention import plot_causes

        return plot_causes(self, ax=ax, **kwargs)


class CohortResult(Result):
    """Cohort x months-since-joining table; ``tables['counts']`` and ``tables['retention_pct']`` wide."""

    title = "Retention by joining cohort"

    def _repr_html_(self) -> str:
        """The wide retention-% table (cohorts x months since joining; blank = not yet observable)."""
        import html as _html

        from .results import table_html

        pct = self.tables.get("retention_pct")
        if pct is None or not len(pct):
            return super()._repr_html_()
        wide = pct.round(1)
        wide.columns = [f"m{c}" for c in wide.columns]
        wide = wide.reset_index()
        sizes = self.summary.drop_duplicates("cohort").set_index("cohort")["cohort_size"]
        wide.insert(1, "customers", wide["cohort"].map(sizes).astype(int))
        parts = [f"<div class='wb-result'><h4>{_html.escape(self.title)} (% still active)</h4>"]
        line = self._meta_line()
        if line:
            parts.append(f"<p class='wb-meta'>{_html.escape(line)}</p>")
        parts.append(table_html(wide, digits=3, max_rows=120))
        parts += [f"<p class='wb-warning'>&#9888; {_html.escape(w)}</p>" for w in self.warnings]
        parts.append("</div>")
        return "".join(parts)

    def plot(self, ax=None, **kwargs):
        from .plotting.retention import plot_cohort_heatmap

        return plot_cohort_heatmap(self, ax=ax, **kwargs)


# ------------------------------------------------------------------------------------- rates
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
) -> RatesResult:
    """Churn and retention rate per calendar period with at-risk denominators.

    Rule: at risk = customers active at the period's start; joiners within the period are reported in
    ``joined`` / ``joined_and_churned`` and are not in the denominator (see the module docstring).

    Parameters
    ----------
    data : Dataset or DataFrame
    period : {'month', 'quarter', 'year'}
    duration_col, event_col, start_col : str
        Tenure, churned (0/1) and joining date; default from the Dataset's spec. Without a start date
        the whole observation window is one period (at risk = every customer) and a warning says so.
    analysis_date : date-like, optional
        End of observation (default: the latest end of follow-up in the data).
    tenure_unit : {'months', 'weeks', 'days'}, optional
        Default from the spec, else months.
    alpha : float

    Returns
    -------
    RatesResult
        ``summary``: ``period, period_start, period_end, complete, customers_at_risk, churned,
        churn_rate, ci_lower, ci_upper, retention_rate, joined, joined_and_churned``.

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
    _check_alpha(alpha)
    if period not in PERIODS:
        raise ParameterError(f"`period` must be one of {list(PERIODS)}, got {period!r}.")
    f, cols = _frame_and_cols(
        data,
        duration_col=duration_col,
        event_col=event_col,
        start_col=start_col,
        tenure_unit=tenure_unit,
    )
    ev = f[cols["event"]].to_numpy().astype(bool)
    columns = [
        "period",
        "period_start",
        "period_end",
        "complete",
        "customers_at_risk",
        "churned",
        "churn_rate",
        "ci_lower",
        "ci_upper",
        "retention_rate",
        "joined",
        "joined_and_churned",
    ]
    warns: list[str] = []
    if cols["start"] is None:
        msg = (
            "no start-date column: calendar periods cannot be built, so the whole observation window is "
            "one period with every customer at risk (joiners within the window cannot be told apart)."
        )
        warnings.warn(msg, UnavailableWarning, stacklevel=2)
        warns.append(msg)
        n, k = len(f), int(ev.sum())
        lo, hi = _wilson(k, n, alpha)
        row = {
            "period": "observation window",
            "period_start": None,
            "period_end": None,
            "complete": True,
            "customers_at_risk": n,
            "churned": k,
            "churn_rate": k / n,
            "ci_lower": float(lo),
            "ci_upper": float(hi),
            "retention_rate": 1 - k / n,
            "joined": np.nan,
            "joined_and_churned": np.nan,
        }
        return RatesResult(
            pd.DataFrame([row], columns=columns),
            {
                "n": n,
                "events": k,
                "alpha": alpha,
                "method": "crude proportion, one window",
                "rule": "at risk = every customer in the data",
            },
            warnings=warns,
        )
    start, end, _, adate = _dates(f, cols, analysis_date)
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
        n, k = int(at_risk.sum()), int(churned.sum())
        lo, hi = _wilson(k, n, alpha) if n else (np.nan, np.nan)
        rows.append(
            {
                "period": str(p),
                "period_start": p.start_time.date().isoformat(),
                "period_end": p.end_time.date().isoformat(),
                "complete": bool(adate >= p.end_time.normalize()),
                "customers_at_risk": n,
                "churned": k,
                "churn_rate": k / n if n else np.nan,
                "ci_lower": float(lo),
                "ci_upper": float(hi),
                "retention_rate": 1 - k / n if n else np.nan,
                "joined": int(joined.sum()),
                "joined_and_churned": int(j_churn.sum()),
            }
        )
    out = pd.DataFrame(rows, columns=columns)
    incomplete = out.loc[~out["complete"], "period"].tolist()
    if incomplete:
        warns.append(
            f"period(s) {', '.join(incomplete)} end after the analysis date "
            f"{adate.date()}: their rates cover part of the period only."
        )
    return RatesResult(
        out,
        {
            "n": len(f),
            "events": int(ev.sum()),
            "alpha": alpha,
            "period": period,
            "analysis_date": adate.date().isoformat(),
            "method": "at risk = active at period start; Wilson CIs",
            "rule": "joiners within a period are outside its denominator; their churn in "
            "the same period is in joined_and_churned",
        },
        warnings=warns,
    )


def lifecycle_rates(
    data,
    *,
    stages=DEFAULT_STAGES,
    duration_col: str | None = None,
    event_col: str | None = None,
    group_col: str | None = None,
    tenure_unit: str | None = None,
    alpha: float = 0.05,
) -> LifecycleResult:
    """Churn and retention by lifecycle stage (tenure bands, months): an actuarial life table.

    Stage ``(a, b]``: ``customers_at_risk`` = tenure > a; ``churned`` = churned with a < tenure <= b;
    ``censored`` = still active with a < tenure <= b; ``churn_rate = churned / (at_risk - censored/2)``;
    ``retention_rate = 1 - churn_rate``; ``monthly_churn_rate = churned / customer-months in the stage``
    (with an exact Poisson CI).

    Parameters
    ----------
    stages : sequence of float
        Increasing stage boundaries in months starting at 0; the last stage is open-ended above its
        last boundary only if you append ``inf``.
    group_col : str, optional
        One life table per group (e.g. the segment).

    References
    ----------
    Cutler, S. J. & Ederer, F. (1958). Maximum utilization of the life table method in analyzing
    survival. *Journal of Chronic Diseases*, 8(6), 699-712.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"tenure": [2.0, 5.0, 5.0, 10.0], "churned": [1, 1, 0, 0]})
    >>> r = lifecycle_rates(df, stages=[0, 3, 12], duration_col="tenure", event_col="churned")
    >>> r.summary[["stage", "customers_at_risk", "churned", "censored"]].values.tolist()
    [['0-3', 4, 1, 0], ['3-12', 3, 1, 2]]
    """
    _check_alpha(alpha)
    st = np.asarray(list(stages), dtype=float)
    if st.size < 2 or st[0] != 0 or np.any(np.diff(st) <= 0):
        raise ParameterError(
            f"`stages` must be increasing boundaries in months starting at 0, got {list(stages)!r}."
        )
    f, cols = _frame_and_cols(
        data,
        duration_col=duration_col,
        event_col=event_col,
        group_col=group_col,
        tenure_unit=tenure_unit,
    )
    z = stats.norm.ppf(1 - alpha / 2)
    t_all = f[cols["duration"]].to_numpy(dtype=float) * _to_months_factor(cols["unit"])
    e_all = f[cols["event"]].to_numpy().astype(bool)
    groups = [(None, np.ones(len(f), bool))]
    if group_col:
        g = f[group_col].astype("object")
        groups = [(lvl, (g == lvl).to_numpy()) for lvl in pd.unique(g.dropna())]
    rows = []
    beyond = int((t_all > st[-1]).sum())
    for lvl, m in groups:
        t, e = t_all[m], e_all[m]
        for a, b in zip(st[:-1], st[1:], strict=True):
            inside = (t > a) & (t <= b)
            n = int((t > a).sum())
            k = int((inside & e).sum())
            c = int((inside & ~e).sum())
            eff = n - c / 2
            q = k / eff if eff > 0 else np.nan
            se = math.sqrt(q * (1 - q) / eff) if eff > 0 else np.nan
            expo = float(np.clip(t[t > a], a, b).sum() - a * n)
            rate = k / expo if expo > 0 else np.nan
            rlo, rhi = _poisson_ci(k, expo, alpha) if expo > 0 else (np.nan, np.nan)
            label = f"{a:g}-{b:g}" if np.isfinite(b) else f"{a:g}+"
            row = {
                "stage": label,
                "stage_start": a,
                "stage_end": b,
                "customers_at_risk": n,
                "churned": k,
                "censored": c,
                "churn_rate": q,
                "ci_lower": max(q - z * se, 0.0) if eff > 0 else np.nan,
                "ci_upper": min(q + z * se, 1.0) if eff > 0 else np.nan,
                "retention_rate": 1 - q if eff > 0 else np.nan,
                "customer_months": expo,
                "monthly_churn_rate": rate,
                "monthly_ci_lower": float(rlo),
                "monthly_ci_upper": float(rhi),
            }
            if group_col:
                row = {"group": lvl, **row}
            rows.append(row)
    warns = []
    if beyond:
        warns.append(
            f"{beyond:,} customers have tenure beyond the last stage boundary ({st[-1]:g} months); "
            "their time after it is not shown (append inf to `stages` to include it)."
        )
    return LifecycleResult(
        pd.DataFrame(rows),
        {
            "n": len(f),
            "events": int(e_all.sum()),
            "alpha": alpha,
            "method": "actuarial life table over tenure (months)",
            "group_col": group_col,
        },
        warnings=warns,
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
) -> CauseResult:
    """Churn by cause: count, share of churners, share of customers and person-time rate.

    ``share`` = churners of the cause / all churners (Wilson CI); ``proportion`` = churners of the cause /
    customers; ``rate_per_100_months`` = churners of the cause / customer-months of exposure x 100 (exact
    Poisson CI): the cause-specific hazard averaged over follow-up. Churners without a cause are a row
    ``(unknown)``, never dropped.
    """
    _check_alpha(alpha)
    f, cols = _frame_and_cols(
        data,
        duration_col=duration_col,
        event_col=event_col,
        cause_col=cause_col,
        group_col=group_col,
        tenure_unit=tenure_unit,
    )
    columns = [
        "cause",
        "churned",
        "share",
        "ci_lower",
        "ci_upper",
        "proportion",
        "rate_per_100_months",
        "rate_ci_lower",
        "rate_ci_upper",
    ]
    if cols["cause"] is None:
        return _unavailable(
            CauseResult,
            "Churn by cause",
            "no churn-cause column (`cause_col` / spec `churn_type`): churn by cause is unavailable.",
            columns,
        )
    t_all = f[cols["duration"]].to_numpy(dtype=float) * _to_months_factor(cols["unit"])
    e_all = f[cols["event"]].to_numpy().astype(bool)
    cause_all = (
        f[cols["cause"]].astype("object").where(f[cols["cause"]].notna(), "(unknown)").to_numpy()
    )
    groups = [(None, np.ones(len(f), bool))]
    if group_col:
        g = f[group_col].astype("object")
        groups = [(lvl, (g == lvl).to_numpy()) for lvl in pd.unique(g.dropna())]
    rows = []
    for lvl, m in groups:
        t, e, cause = t_all[m], e_all[m], cause_all[m]
        n_ch = int(e.sum())
        expo = float(t.sum())
        counts = pd.Series(cause[e]).value_counts()
        for c, k in counts.items():
            lo, hi = _wilson(k, n_ch, alpha)
            rlo, rhi = _poisson_ci(k, expo, alpha)
            row = {
                "cause": str(c),
                "churned": int(k),
                "share": k / n_ch,
                "ci_lower": float(lo),
                "ci_upper": float(hi),
                "proportion": k / m.sum(),
                "rate_per_100_months": 100 * k / expo,
                "rate_ci_lower": 100 * float(rlo),
                "rate_ci_upper": 100 * float(rhi),
            }
            if group_col:
                row = {"group": lvl, **row}
            rows.append(row)
    return CauseResult(
        pd.DataFrame(rows),
        {
            "n": len(f),
            "events": int(e_all.sum()),
            "alpha": alpha,
            "method": "shares (Wilson) and person-time rates (exact Poisson)",
            "cause_col": cols["cause"],
        },
    )


def rates_by_segment(
    data,
    *,
    group_col: str | None = None,
    duration_col: str | None = None,
    event_col: str | None = None,
    tenure_unit: str | None = None,
    alpha: float = 0.05,
) -> RatesResult:
    """Churn by segment: customers, churned, crude proportion and monthly person-time churn rate with CIs.

    ``group_col`` defaults to the spec's ``segment``. ``monthly_churn_rate`` = churned / customer-months
    (exact Poisson CI), comparable across segments with different follow-up; ``implied_12m_retention`` =
    ``exp(-12 * monthly_churn_rate)`` assumes a constant hazard and is labelled as such in ``meta``.
    """
    _check_alpha(alpha)
    spec = getattr(data, "spec", None)
    group_col = group_col or (spec.segment if spec is not None else None)
    if group_col is None:
        raise ParameterError(
            "`group_col` is required (e.g. group_col='segment'); the data's spec names no segment."
        )
    f, cols = _frame_and_cols(
        data,
        duration_col=duration_col,
        event_col=event_col,
        group_col=group_col,
        tenure_unit=tenure_unit,
    )
    t = f[cols["duration"]].to_numpy(dtype=float) * _to_months_factor(cols["unit"])
    e = f[cols["event"]].to_numpy().astype(bool)
    g = f[group_col].astype("object")
    rows = []
    n_missing = int(g.isna().sum())
    for lvl in pd.unique(g.dropna()):
        m = (g == lvl).to_numpy()
        n, k, expo = int(m.sum()), int(e[m].sum()), float(t[m].sum())
        lo, hi = _wilson(k, n, alpha)
        rlo, rhi = _poisson_ci(k, expo, alpha)
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
                "monthly_churn_rate": rate,
                "ci_lower": float(rlo),
                "ci_upper": float(rhi),
                "implied_12m_retention": math.exp(-12 * rate),
            }
        )
    warns = []
    if n_missing:
        from .exceptions import RowsExcludedWarning

        msg = f"{n_missing:,} customers have no value in '{group_col}' and are not in any segment row."
        warnings.warn(msg, RowsExcludedWarning, stacklevel=2)
        warns.append(msg)
    return RatesResult(
        pd.DataFrame(rows),
        {
            "n": len(f),
            "events": int(e.sum()),
            "alpha": alpha,
            "group_col": group_col,
            "excluded": n_missing,
            "method": "person-time rate (exact Poisson CI); implied 12-month "
            "retention assumes a constant hazard",
        },
        warnings=warns,
        title=f"Churn by {group_col}",
    )


def referral_rate(
    data, *, referral_col: str | None = None, group_col: str | None = None, alpha: float = 0.05
) -> RatesResult:
    """Referral rate: share of customers who recommended at least one other customer (Wilson CI).

    ``referral_col`` holds a count of referrals or a yes/no flag; default: the first of
    ``n_referrals``, ``number_of_referrals``, ``referred_a_friend`` present. Without one the result
    says it is unavailable.
    """
    _check_alpha(alpha)
    frame = data.frame if hasattr(data, "spec") else data
    if referral_col is None:
        referral_col = next(
            (
                c
                for c in ("n_referrals", "number_of_referrals", "referred_a_friend")
                if c in frame.columns
            ),
            None,
        )
    columns = ["group", "customers", "referrers", "referral_rate", "ci_lower", "ci_upper"]
    if referral_col is None:
        return _unavailable(
            RatesResult,
            "Referral rate",
            "no referral column: the referral rate is unavailable.",
            columns,
        )
    if referral_col not in frame.columns:
        raise ParameterError(f"column '{referral_col}' (`referral_col`) is not in the data.")
    s = frame[referral_col]
    if s.dtype == object or isinstance(s.dtype, pd.CategoricalDtype):
        flag = s.astype(str).str.lower().isin(["yes", "true", "1"])
    else:
        flag = pd.to_numeric(s, errors="coerce").fillna(0) > 0
    groups = [("all", np.ones(len(frame), bool))]
    if group_col:
        g = frame[group_col].astype("object")
        groups += [(str(lvl), (g == lvl).to_numpy()) for lvl in pd.unique(g.dropna())]
    rows = []
    for lvl, m in groups:
        n, k = int(m.sum()), int(flag[m].sum())
        lo, hi = _wilson(k, n, alpha)
        rows.append(
            {
                "group": lvl,
                "customers": n,
                "referrers": k,
                "referral_rate": k / n,
                "ci_lower": float(lo),
                "ci_upper": float(hi),
            }
        )
    return RatesResult(
        pd.DataFrame(rows, columns=columns),
        {
            "n": len(frame),
            "alpha": alpha,
            "referral_col": referral_col,
            "method": "share of customers with >= 1 referral (Wilson CI)",
        },
        title="Referral rate",
    )


# ------------------------------------------------------------------------------------- cohorts
def _cohort_labels(start: pd.Series, cohort: str) -> pd.Series:
    if cohort not in PERIODS:
        raise ParameterError(f"`cohort` must be one of {list(PERIODS)}, got {cohort!r}.")
    return start.dt.to_period(PERIODS[cohort]).astype(str)


def cohort_table(
    data,
    *,
    cohort: str = "quarter",
    max_months: int = 24,
    step: int = 1,
    duration_col: str | None = None,
    event_col: str | None = None,
    start_col: str | None = None,
    analysis_date=None,
    tenure_unit: str | None = None,
) -> CohortResult:
    """Joining cohort x months since joining: customers still active and retention %.

    The cell ``(cohort, m)`` counts the cohort's customers with tenure >= ``m`` months; it is shown only
    when every member of the cohort was observable for ``m`` months (joined at least ``m`` months before
    the analysis date), else it is blank (``NaN``): censoring is never shown as churn. Without a
    start-date column the result is empty, says so in its warnings and ``meta['available']`` is False.

    Returns
    -------
    CohortResult
        ``summary`` long: ``cohort, months_since_joining, cohort_size, active, retention_pct``;
        ``tables['counts']``, ``tables['retention_pct']``: cohorts x months, wide.
    """
    if not isinstance(max_months, (int, np.integer)) or max_months < 1:
        raise ParameterError(f"`max_months` must be a positive whole number, got {max_months!r}.")
    if not isinstance(step, (int, np.integer)) or step < 1:
        raise ParameterError(f"`step` must be a positive whole number, got {step!r}.")
    f, cols = _frame_and_cols(
        data,
        duration_col=duration_col,
        event_col=event_col,
        start_col=start_col,
        tenure_unit=tenure_unit,
    )
    columns = ["cohort", "months_since_joining", "cohort_size", "active", "retention_pct"]
    if cols["start"] is None:
        return _unavailable(
            CohortResult,
            "Retention by joining cohort",
            "no start-date column (spec `start_date`): the cohort table is unavailable for these "
            "data (e.g. Telco has tenure but no joining dates).",
            columns,
        )
    start, _, months, adate = _dates(f, cols, analysis_date)
    followup = (adate - start).dt.days.to_numpy() / DAYS_PER_MONTH
    label = _cohort_labels(start, cohort).to_numpy()
    grid = np.arange(0, max_months + 1, step)
    rows = []
    for c in sorted(pd.unique(label)):
        m = label == c
        size = int(m.sum())
        observable_to = float(followup[m].min())
        for g in grid:
            if g <= observable_to + 1e-9:
                act = int((months[m] >= g - 1e-9).sum()) if g > 0 else size
                rows.append(
                    {
                        "cohort": c,
                        "months_since_joining": int(g),
                        "cohort_size": size,
                        "active": act,
                        "retention_pct": 100 * act / size,
                    }
                )
            else:
                rows.append(
                    {
                        "cohort": c,
                        "months_since_joining": int(g),
                        "cohort_size": size,
                        "active": np.nan,
                        "retention_pct": np.nan,
                    }
                )
    long = pd.DataFrame(rows, columns=columns)
    counts = long.pivot(index="cohort", columns="months_since_joining", values="active")
    pct = long.pivot(index="cohort", columns="months_since_joining", values="retention_pct")
    return CohortResult(
        long,
        {
            "n": len(f),
            "events": int(f[cols["event"]].sum()),
            "cohort": cohort,
            "analysis_date": adate.date().isoformat(),
            "available": True,
            "method": "share of the cohort still active m months after joining; cells "
            "not observable for every member are blank",
        },
        tables={"counts": counts, "retention_pct": pct},
    )


def cohort_survivors(
    data,
    *,
    cohort: str = "year",
    period_length: float = 1.0,
    duration_col: str | None = None,
    event_col: str | None = None,
    start_col: str | None = None,
    analysis_date=None,
    tenure_unit: str | None = None,
) -> dict[str, np.ndarray]:
    """Survivor counts ``[n_0, n_1, ...]`` per joining cohort at multiples of ``period_length`` months,
    up to the last period every member of the cohort was observable (input to ``fit_sbg``)."""
    f, cols = _frame_and_cols(
        data,
        duration_col=duration_col,
        event_col=event_col,
        start_col=start_col,
        need_start=True,
        tenure_unit=tenure_unit,
    )
    start, _, months, adate = _dates(f, cols, analysis_date)
    followup = (adate - start).dt.days.to_numpy() / DAYS_PER_MONTH
    label = _cohort_labels(start, cohort).to_numpy()
    out = {}
    for c in sorted(pd.unique(label)):
        m = label == c
        k_max = int(np.floor(followup[m].min() / period_length + 1e-9))
        out[str(c)] = np.array(
            [
                (months[m] >= k * period_length - 1e-9).sum() if k else m.sum()
                for k in range(k_max + 1)
            ],
            dtype=float,
        )
    return out


# ------------------------------------------------------------------------------------- findings
def key_findings(
    *,
    rates: Result | None = None,
    lifecycle: Result | None = None,
    causes: Result | None = None,
    segments: Result | None = None,
    cohorts: Result | None = None,
) -> list[str]:
    """Short plain-language sentences on the retention overview (for the report's key findings)."""
    out: list[str] = []
    if rates is not None and len(rates.summary):
        s = rates.summary.dropna(subset=["churn_rate"])
        s = s[s["customers_at_risk"] >= 30] if (s["customers_at_risk"] >= 30).any() else s
        if len(s):
            last = s.iloc[-1]
            if last["period"] == "observation window":
                out.append(
                    f"Over the observation window, {last['churn_rate']:.1%} of the "
                    f"{int(last['customers_at_risk']):,} customers churned (retention {last['retention_rate']:.1%})."
                )
            else:
                out.append(
                    f"In {last['period']}, {last['churn_rate']:.1%} of the {int(last['customers_at_risk']):,} "
                    f"customers active at its start churned (retention {last['retention_rate']:.1%})."
                )
            if len(s) >= 4:
                mean4 = s["churn_rate"].iloc[-4:].mean()
                out.append(f"Average churn over the last 4 periods: {mean4:.1%} per period.")
    if lifecycle is not None and len(lifecycle.summary):
        s = lifecycle.summary
        if "group" not in s.columns and s["monthly_churn_rate"].notna().any():
            hi = s.loc[s["monthly_churn_rate"].idxmax()]
            lo = s.loc[s["monthly_churn_rate"].idxmin()]
            out.append(
                f"Monthly churn is highest at tenure {hi['stage']} months ({hi['monthly_churn_rate']:.2%}) and "
                f"lowest at {lo['stage']} months ({lo['monthly_churn_rate']:.2%})."
            )
    if causes is not None and len(causes.summary):
        s = causes.summary
        if "group" not in s.columns:
            top = s.sort_values("share", ascending=False).iloc[0]
            out.append(
                f"The leading churn cause is '{top['cause']}', {top['share']:.0%} of all churners."
            )
    if segments is not None and len(segments.summary):
        s = segments.summary.sort_values("monthly_churn_rate")
        if len(s) >= 2:
            out.append(
                f"By {segments.meta.get('group_col', 'segment')}, monthly churn ranges from "
                f"{s['monthly_churn_rate'].iloc[0]:.2%} ({s['group'].iloc[0]}) to "
                f"{s['monthly_churn_rate'].iloc[-1]:.2%} ({s['group'].iloc[-1]})."
            )
    if cohorts is not None:
        if not cohorts.meta.get("available", True):
            out.append("Cohort retention is unavailable: the data have no joining dates.")
        elif len(cohorts.summary):
            s = cohorts.summary.dropna(subset=["retention_pct"])
            at12 = s[s["months_since_joining"] == 12]
            if len(at12):
                out.append(
                    f"Across the {len(at12)} cohorts observable for 12 months, 12-month retention ranges "
                    f"from {at12['retention_pct'].min():.0f}% to {at12['retention_pct'].max():.0f}%."
                )
    return out
