"""Survival by joining cohort: customers grouped by the month or quarter they joined.

Recent cohorts have not yet been observed for long; their survival at a long horizon is left
empty with a note ("not yet observed"), never extrapolated.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_alpha
from ..columns import data_fingerprint
from ..exceptions import DataQualityWarning, DataValidationError, ParameterError
from ..results import Result, standard_meta
from ._frame import _check_times
from .km import kaplan_meier

__all__ = ["CohortSurvivalResult", "cohort_survival"]

FREQS = {"month": "M", "quarter": "Q", "year": "Y"}
SUMMARY_COLUMNS = ["cohort", "time", "estimate", "ci_lower", "ci_upper", "at_risk", "note"]


class CohortSurvivalResult(Result):
    """Survival at horizons per joining cohort (see :func:`cohort_survival`).

    ``summary``: ``cohort, time, estimate, ci_lower, ci_upper, at_risk, note`` (long format; the
    estimate is the Kaplan-Meier survival at ``time``, its interval on the same scale);
    ``tables["cohorts"]``: ``cohort, n, events, median, median_ci_lower, median_ci_upper``;
    ``tables["matrix"]``: cohorts x horizons survival (the retention matrix). ``meta["available"]``
    is False when the data have no joining dates (the summary is then empty and the warning says
    why).
    """

    title = "Survival by joining cohort"
    key = "cohort"
    column_labels = {"estimate": "Survival"}
    percent_columns = ("estimate",)

    def __init__(self, summary, meta, *, km=None, tables=None, warnings=None):
        super().__init__(summary, meta, tables=tables, warnings=warnings)
        self.km = km

    def plot(self, ax=None):
        """Heat map of survival by cohort (rows) and horizon (columns)."""
        from ..plotting.survival import plot_cohorts

        return plot_cohorts(self, ax=ax)


def cohort_survival(
    data: Any,
    *,
    duration_col: str | None = None,
    event_col: str | None = None,
    start_col: str | None = None,
    freq: str = "quarter",
    horizons: Sequence[float] = (6, 12, 24),
    alpha: float = 0.05,
    ci_scale: str = "log",
) -> CohortSurvivalResult:
    """Kaplan-Meier survival of each joining cohort at chosen horizons.

    Parameters
    ----------
    data : Dataset or DataFrame
    start_col : str, optional
        Joining date (default: the spec's ``start_date``). Data without one (e.g. Telco) give an
        empty result whose warning says so, so a notebook keeps running.
    freq : {"month", "quarter", "year"}
        Cohort width.
    horizons : sequence of float
        Tenures at which survival is read off each cohort's curve.

    Returns
    -------
    CohortSurvivalResult

    Raises
    ------
    ParameterError
        Unknown ``freq``, bad horizons.
    DataValidationError
        ``start_col`` given but missing or not dates.

    References
    ----------
    Kaplan, E. L. and Meier, P. (1958). JASA 53, 457-481. Fader, P. S. and Hardie, B. G. S. (2007).
    How to project customer retention. Journal of Interactive Marketing 21, 76-90.

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> res = cohort_survival(load_dataset("synthetic", n_customers=2_000), freq="year", horizons=[12])
    >>> res.meta["available"]
    True
    """
    alpha = check_alpha(alpha)
    if freq not in FREQS:
        raise ParameterError(f"`freq` must be one of {list(FREQS)}, got {freq!r}.")
    hz = _check_times(horizons)
    if start_col is None:
        spec = getattr(data, "spec", None)
        start_col = getattr(spec, "start_date", None) if spec is not None else None
        if start_col is None:
            name = getattr(spec, "name", None) if spec is not None else None
            msg = (
                f"cohort_survival: the data{f' ({name!r})' if name else ''} have no joining dates, so cohorts "
                "cannot be formed; add a start-date column and name it as `start_date` in the role spec "
                "(or pass start_col=...)."
            )
            warnings.warn(msg, DataQualityWarning, stacklevel=2)
            empty = pd.DataFrame(columns=SUMMARY_COLUMNS)
            meta = standard_meta(
                data, alpha=alpha, method="Kaplan-Meier by joining cohort", available=False
            )
            return CohortSurvivalResult(empty, meta, warnings=[msg])
    frame = data.frame if hasattr(data, "frame") else data
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(
            f"cohort_survival: `data` must be a Dataset or DataFrame, got {type(data).__name__}."
        )
    if start_col not in frame.columns:
        raise DataValidationError(
            f"cohort_survival: `start_col`={start_col!r} is not a column of the data "
            f"(columns: {list(map(str, frame.columns))[:30]}).",
            column=str(start_col),
        )
    dates = pd.to_datetime(frame[start_col], errors="coerce")
    bad = dates.isna() & frame[start_col].notna()
    if bad.any():
        raise DataValidationError(
            f"cohort_survival: {int(bad.sum()):,} value(s) of '{start_col}' are not dates (e.g. "
            f"{frame.loc[bad, start_col].iloc[0]!r}). Use ISO dates such as 2024-03-01.",
            column=start_col,
            rule="date",
        )
    periods = dates.dt.to_period(FREQS[freq])
    levels = [str(p) for p in sorted(periods.dropna().unique())]
    work = frame.copy()
    work["_cohort"] = pd.Categorical(periods.astype(str).where(periods.notna()), categories=levels)
    ds_like = work
    if hasattr(data, "spec"):
        duration_col = duration_col or data.spec.tenure
        event_col = event_col or data.spec.event
    km = kaplan_meier(
        ds_like,
        duration_col=duration_col,
        event_col=event_col,
        group_col="_cohort",
        alpha=alpha,
        ci_scale=ci_scale,
        max_groups=None,  # one curve per start period, however many
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        at = km.at(hz)
    if "note" not in at:
        at["note"] = ""
    at["note"] = np.where(
        at["note"].astype(str) != "", "not yet observed (cohort joined too recently)", ""
    )
    at = at.rename(columns={"group": "cohort", "survival": "estimate"})[SUMMARY_COLUMNS]
    cohorts = km.summary.rename(columns={"group": "cohort"}).drop(columns=["note"])
    matrix = at.pivot(index="cohort", columns="time", values="estimate").reindex(cohorts["cohort"])
    matrix.columns = [f"survival_{c:g}" for c in matrix.columns]
    meta = {
        **{k: v for k, v in km.meta.items() if k not in ("group_col", "method")},
        # the data passed (the curves were fitted on a copy carrying the cohort column)
        "fingerprint": data_fingerprint(data),
        "exclusions": list(getattr(data, "exclusions", None) or []) + list(km.meta["exclusions"]),
        "available": True,
        "start_col": start_col,
        "freq": freq,
        "horizons": hz.tolist(),
        "method": f"Kaplan-Meier by joining {freq}",
    }
    return CohortSurvivalResult(
        at,
        meta,
        km=km,
        tables={"cohorts": cohorts, "matrix": matrix.reset_index()},
        warnings=list(km.warnings),
    )
