"""Retention by joining cohort: cohort x months since joining, censoring never shown as churn."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import DAYS_PER_MONTH
from ..exceptions import ParameterError
from ._common import (
    PERIODS,
    CohortResult,
    dates,
    from_counts,
    meta_of,
    resolve_retention,
    unavailable,
)

__all__ = ["cohort_survivors", "cohort_table"]


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
    weights_col: str | None = None,
) -> CohortResult:
    """Joining cohort x months since joining: customers still active and retention %.

    The cell ``(cohort, m)`` counts the cohort's customers with tenure >= ``m`` months; it is shown only
    when every member of the cohort was observable for ``m`` months (joined at least ``m`` months before
    the analysis date), else it is blank (``NaN``): censoring is never shown as churn. Without a
    start-date column the result is empty, says so in its warnings and ``meta['available']`` is False.
    The table is descriptive: it has no intervals, so ``meta["alpha"]`` is None. ``weights_col``:
    frequency weights (whole numbers of customers per row, e.g. the ``count`` of
    :func:`workbench.aggregate.counts`); the table then equals that of the expanded rows.

    Returns
    -------
    CohortResult
        ``summary`` long: ``cohort, months_since_joining, cohort_size, active, retention_pct``;
        ``tables['counts']``, ``tables['retention_pct']``: cohorts x months, wide.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"start": pd.to_datetime(["2024-01-01", "2024-01-15"]), "t": [1.0, 6.0],
    ...                    "e": [1, 0]})
    >>> r = cohort_table(df, cohort="quarter", max_months=3, duration_col="t", event_col="e",
    ...                  start_col="start", analysis_date="2024-07-20")
    >>> r.summary["retention_pct"].tolist()
    [100.0, 100.0, 50.0, 50.0]
    """
    if not isinstance(max_months, (int, np.integer)) or max_months < 1:
        raise ParameterError(f"`max_months` must be a positive whole number, got {max_months!r}.")
    if not isinstance(step, (int, np.integer)) or step < 1:
        raise ParameterError(f"`step` must be a positive whole number, got {step!r}.")
    agg = from_counts(
        data,
        "cohort_table",
        duration_col=duration_col,
        event_col=event_col,
        not_from_counts={"weights_col": weights_col},
        cohort=cohort,
        max_months=max_months,
        step=step,
        start_col=start_col,
        analysis_date=analysis_date,
        tenure_unit=tenure_unit,
    )
    if agg is not None:
        return agg
    r, cols = resolve_retention(
        data,
        func="cohort_table",
        duration_col=duration_col,
        event_col=event_col,
        start_col=start_col,
        tenure_unit=tenure_unit,
        weights_col=weights_col,
    )
    w = cols["w"]
    columns = ["cohort", "months_since_joining", "cohort_size", "active", "retention_pct"]
    meta = meta_of(
        r,
        alpha=None,
        method="share of the cohort still active m months after joining; cells "
        "not observable for every member are blank",
        cohort=cohort,
    )
    if cols["start"] is None:
        return unavailable(
            CohortResult,
            "Retention by joining cohort",
            "no start-date column: the cohort table is unavailable for these data; name the joining "
            "date in the spec's `start_date` role (or pass start_col=) to enable it.",
            columns,
            meta,
        )
    start, _, months, adate = dates(r.frame, cols, analysis_date)
    followup = (adate - start).dt.days.to_numpy() / DAYS_PER_MONTH
    label = _cohort_labels(start, cohort).to_numpy()
    grid = np.arange(0, max_months + 1, step)
    rows = []
    for c in sorted(pd.unique(label)):
        m = label == c
        size = int(round(w[m].sum()))
        observable_to = float(followup[m].min())
        for g in grid:
            seen = g <= observable_to + 1e-9
            act = (
                (int(round(w[m][months[m] >= g - 1e-9].sum())) if g > 0 else size)
                if seen
                else np.nan
            )
            rows.append(
                {
                    "cohort": c,
                    "months_since_joining": int(g),
                    "cohort_size": size,
                    "active": act,
                    "retention_pct": 100 * act / size if seen else np.nan,
                }
            )
    long = pd.DataFrame(rows, columns=columns)
    counts = long.pivot(index="cohort", columns="months_since_joining", values="active")
    pct = long.pivot(index="cohort", columns="months_since_joining", values="retention_pct")
    meta.update(analysis_date=adate.date().isoformat(), available=True)
    return CohortResult(long, meta, tables={"counts": counts, "retention_pct": pct})


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
    up to the last period every member of the cohort was observable (input to ``fit_sbg``).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"start": pd.to_datetime(["2024-01-01"] * 3), "t": [1.5, 3.0, 3.0],
    ...                    "e": [1, 0, 0]})
    >>> cohort_survivors(df, duration_col="t", event_col="e", start_col="start",
    ...                  analysis_date="2024-04-01")["2024"].tolist()
    [3.0, 3.0, 2.0]
    """
    r, cols = resolve_retention(
        data,
        func="cohort_survivors",
        duration_col=duration_col,
        event_col=event_col,
        start_col=start_col,
        need_start=True,
        tenure_unit=tenure_unit,
    )
    start, _, months, adate = dates(r.frame, cols, analysis_date)
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
