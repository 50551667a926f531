"""Landmark validation of an early-warning score recorded in customer histories.

A score that changes over a customer's life (a satisfaction survey, a health score recomputed every
month) is stored as ``(start, stop]`` rows, e.g. those of :func:`workbench.data.events.build_intervals`.
The landmark approach (van Houwelingen 2007) asks the question a retention team asks on a given day:
*among the customers still active at tenure* ``landmark``, *does the score they have now separate
those who churn within the next* ``horizon`` *from those who stay?* Only customers at risk at the
landmark are assessed, each with the score in force at the landmark (the row whose ``(start, stop]``
contains it; the value known just before the landmark, as in the Cox risk sets), and the follow-up
after the landmark is what counts. The statistics (cumulative/dynamic AUC, Uno's C, thresholds,
calibration) are those of :func:`workbench.value.health.validate_health_score`, called on the
per-customer landmark table.

References
----------
van Houwelingen, H. C. (2007). Dynamic prediction by landmarking in event history analysis.
*Scandinavian Journal of Statistics*, 34(1), 70-85.
"""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from ..columns import column_name, months_per_unit
from ..data.validate import check_event, check_intervals
from ..exceptions import DataValidationError, ParameterError, RowsExcludedWarning

_FUNC = "landmark_validation"


def _landmark_table(
    frame: pd.DataFrame,
    landmark: float,
    *,
    score_col: str,
    id_col: str,
    start_col: str,
    stop_col: str,
    event_col: str,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """One row per customer at risk at ``landmark``: score in force, end of follow-up, event."""
    stop_s = pd.to_numeric(frame[stop_col], errors="coerce")
    # one home for the row checks: start < stop on every row, no overlap within a customer
    start = check_intervals(frame, start_col, stop_s, id_col=id_col).to_numpy(float)
    stop = stop_s.to_numpy(float)
    event = check_event(frame, event_col, id_col=id_col).to_numpy()
    ids = frame[id_col].to_numpy()
    last = pd.DataFrame({"id": ids, "stop": stop, "event": event}).sort_values("stop")
    last = last.groupby("id", sort=False).tail(1).set_index("id")
    early = (event == 1) & (stop < last["stop"].reindex(ids).to_numpy(float))
    if early.any():
        raise DataValidationError(
            f"{_FUNC}: {int(early.sum()):,} row(s) have `{event_col}` = 1 before the customer's last "
            f"row; churn ends a spell, so it belongs on the last (start, stop] row only (as "
            "build_intervals puts it). Check the spells or pass one spell per customer.",
            column=event_col,
            rule="event on the last row",
            n_rows=int(early.sum()),
        )
    contains = (start < landmark) & (landmark <= stop)
    hit = pd.DataFrame({"id": ids[contains], "score": frame[score_col].to_numpy()[contains]})
    hit = hit.set_index("id")
    ended = last["stop"] <= landmark  # churned or censored at or before the landmark
    first_start = pd.Series(start, index=ids).groupby(level=0).min()
    later = (~ended) & (first_start.reindex(last.index) >= landmark)  # entered after the landmark
    gap = (~ended) & (~later) & ~last.index.isin(hit.index)  # not under observation at it
    keep = last.index[~ended & ~later & ~gap]
    table = pd.DataFrame(
        {
            "score": hit.loc[keep, "score"].to_numpy(),
            "time": last.loc[keep, "stop"].to_numpy(float),
            "event": last.loc[keep, "event"].to_numpy(),
        }
    )
    counts = {
        "n_customers": int(len(last)),
        "n_at_risk": int(len(keep)),
        "n_ended_before": int(ended.sum()),
        "n_entered_after": int(later.sum()),
        "n_not_observed": int(gap.sum()),
    }
    return table, counts


def landmark_validation(
    intervals: pd.DataFrame,
    *,
    landmark: float,
    horizon: float,
    score_col: str,
    id_col: str,
    start_col: str = "start",
    stop_col: str = "stop",
    event_col: str,
    tenure_unit: str = "months",
    thresholds=(70, 50),
    score_range=(0, 100),
    higher_is_healthier: bool = True,
    n_bands: int = 10,
    n_boot: int = 100,
    seed: int = 0,
    alpha: float = 0.05,
) -> Any:
    """Validate the score in force at ``landmark`` for churn within the next ``horizon``.

    Parameters
    ----------
    intervals : DataFrame
        ``(start, stop]`` rows of one spell per customer (``build_intervals``), the score carried on
        each row, the event flag on the customer's last row.
    landmark : float
        Tenure (in ``tenure_unit``) at which the score is read: customers whose follow-up ended at or
        before it, or who came under observation after it, are not assessed (counted in ``meta`` and
        warned about with :class:`~workbench.exceptions.RowsExcludedWarning`).
    horizon : float
        Churn within ``horizon`` after the landmark is the outcome.
    score_col, id_col, start_col, stop_col, event_col : str
        The score, the customer id (never reported), the interval bounds and the churn flag.
    tenure_unit : str
        Unit of ``start``/``stop``, ``landmark`` and ``horizon`` (default months).
    thresholds, score_range, higher_is_healthier, n_bands, n_boot, seed, alpha
        Passed to :func:`workbench.value.health.validate_health_score`.

    Returns
    -------
    HealthScoreResult
        As :func:`~workbench.value.health.validate_health_score` (thresholds in ``summary``, AUC and
        Uno's C in ``tables['discrimination']``), with ``meta['landmark']`` holding the landmark, the
        horizon and the counts of customers assessed and excluded.

    Raises
    ------
    ColumnNotFoundError
        A column argument names no column.
    ParameterError
        ``landmark`` < 0, ``horizon`` <= 0, or no customer at risk at the landmark (beyond follow-up).
    DataValidationError
        Rows with start >= stop or overlapping within a customer, an event flag not 0/1, or a
        customer at risk without a score in force at the landmark.

    Examples
    --------
    >>> from workbench.data.histories import first_spell_intervals, simulate_histories
    >>> h, _ = simulate_histories(2000, 1, truth_customers=0)
    >>> rows = first_spell_intervals(h)
    >>> res = landmark_validation(rows, landmark=12, horizon=12, score_col="satisfaction",
    ...     id_col="customer_id", event_col="churned", score_range=(1, 5), thresholds=[3])
    >>> 0.5 < res.meta["auc"] < 1
    True
    """
    from ..value.health import validate_health_score

    func = _FUNC
    if not isinstance(intervals, pd.DataFrame):
        raise ParameterError(
            f"{func}: `intervals` must be a DataFrame of (start, stop] rows, got "
            f"{type(intervals).__name__}. Build them with workbench.data.events.build_intervals."
        )
    for arg, col in (
        ("score_col", score_col),
        ("id_col", id_col),
        ("start_col", start_col),
        ("stop_col", stop_col),
        ("event_col", event_col),
    ):
        column_name(intervals, col, argument=arg, func=func)
    for arg, value, ok in (
        ("landmark", landmark, lambda v: v >= 0),
        ("horizon", horizon, lambda v: v > 0),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not ok(value):
            need = ">= 0" if arg == "landmark" else "> 0"
            raise ParameterError(
                f"{func}: `{arg}` must be a number {need} ({tenure_unit}), got {value!r}."
            )
    per_month = months_per_unit(tenure_unit)
    table, counts = _landmark_table(
        intervals,
        float(landmark),
        score_col=score_col,
        id_col=id_col,
        start_col=start_col,
        stop_col=stop_col,
        event_col=event_col,
    )
    if counts["n_at_risk"] == 0:
        last_stop = float(pd.to_numeric(intervals[stop_col], errors="coerce").max())
        raise ParameterError(
            f"{func}: no customer is at risk at landmark={landmark!r} {tenure_unit}: follow-up ends "
            f"at {last_stop:g} (largest `{stop_col}`). Choose a landmark below the follow-up, e.g. "
            f"{last_stop / 4:g}."
        )
    missing = pd.to_numeric(table["score"], errors="coerce").isna()
    if missing.any():
        raise DataValidationError(
            f"{func}: {int(missing.sum()):,} of {len(table):,} customers at risk at the landmark "
            f"({landmark:g} {tenure_unit}) have no `{score_col}` in force then (missing or "
            "non-numeric): choose a later landmark, or fill the score before the first measurement.",
            column=score_col,
            rule="score present at the landmark",
            n_rows=int(missing.sum()),
        )
    excluded = counts["n_customers"] - counts["n_at_risk"]
    msg = None
    if excluded:
        msg = (
            f"{excluded:,} of {counts['n_customers']:,} customers are not at risk at the landmark "
            f"({landmark:g} {tenure_unit}) and are not assessed: {counts['n_ended_before']:,} churned "
            f"or were censored by then, {counts['n_entered_after']:,} came under observation later, "
            f"{counts['n_not_observed']:,} had no row covering it."
        )
        warnings.warn(msg, RowsExcludedWarning, stacklevel=2)
    # the landmark table starts every customer at the landmark: time since it, in months
    table["time"] = (table["time"] - float(landmark)) * per_month
    res = validate_health_score(
        table,
        score_col="score",
        duration_col="time",
        event_col="event",
        tenure_unit="months",
        horizon_months=float(horizon) * per_month,
        thresholds=thresholds,
        score_range=score_range,
        higher_is_healthier=higher_is_healthier,
        n_bands=n_bands,
        n_boot=n_boot,
        seed=seed,
        alpha=alpha,
    )
    res.meta["landmark"] = {
        "landmark": float(landmark),
        "horizon": float(horizon),
        "tenure_unit": tenure_unit,
        "score": score_col,
        **counts,
    }
    if msg:
        res.warnings.insert(0, msg)
    res.title = f"Landmark validation of '{score_col}' at {landmark:g} {tenure_unit}"
    return res
