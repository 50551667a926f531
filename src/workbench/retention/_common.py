"""Shared pieces of the retention overview: input resolution (through :mod:`workbench.columns`),
interval formulas, joining/leaving dates, and the result classes."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..columns import MAX_GROUPS, check_grouping, column_name, months_per_unit, resolve
from ..columns.frequency import frequency_weights
from ..config import DAYS_PER_MONTH
from ..exceptions import DataValidationError, ParameterError, UnavailableWarning
from ..results import Result, standard_meta

PERIODS = {"month": "M", "quarter": "Q", "year": "Y"}


def resolve_retention(
    data,
    *,
    func: str,
    duration_col=None,
    event_col=None,
    start_col=None,
    group_col=None,
    cause_col=None,
    need_start=False,
    tenure_unit=None,
    max_groups=MAX_GROUPS,
    weights_col=None,
):
    """``(resolved, cols)``: checked tenure/event arrays (tenure in months in ``cols['months']``)
    and the optional start, group and cause columns, each defaulting from the spec's role.

    ``cols['w']`` holds the frequency weights (whole numbers of customers per row, e.g. the
    ``count`` of :func:`workbench.aggregate.counts`; ones without ``weights_col``): every count
    of customers is a weighted sum, so the tables equal those of the expanded rows."""
    check_grouping(data, group_col, max_levels=max_groups, func=func, limit_argument="max_groups")
    r = resolve(
        data,
        duration_col=duration_col,
        event_col=event_col,
        group_col=group_col,
        covariates=[],
        missing="exclude",
        tenure_unit=tenure_unit,
        weights_col=weights_col,
        func=func,
    )
    w = frequency_weights(r.frame, r.columns["weights_col"], func=func, what="a count of customers")
    cols: dict[str, Any] = {
        "duration": r.columns["duration_col"],
        "event": r.columns["event_col"],
        "group": r.columns["group_col"],
        "start": column_name(
            data, start_col, argument="start_col", role="start_date", required=need_start, func=func
        ),
        "cause": column_name(
            data, cause_col, argument="cause_col", role="churn_type", required=False, func=func
        ),
        "unit": r.unit,
        "months": r.duration * months_per_unit(r.unit),
        "w": np.ones(len(r.frame)) if w is None else w,
        "weights": r.columns["weights_col"],
    }
    return r, cols


def from_counts(data, func: str, **kwargs):
    """The :mod:`workbench.aggregate` version of the retention table ``func`` when ``data`` is an
    aggregated dataset (``load_dataset("parquet", ...)``: cell counts, no rows) or a table source
    (Parquet / CSV path, DuckDB relation, dask DataFrame), else None
    (:func:`workbench.aggregate.dataset.from_counts`).

    On an aggregated dataset, column arguments left as None default from its spec as the
    row-level functions default them (joining date, tenure unit; the segment for
    ``rates_by_segment`` only).
    """
    from ..aggregate.dataset import from_counts as dispatch
    from ..aggregate.dataset import is_aggregated

    defaults = {}
    if is_aggregated(data):
        spec = data.spec
        defaults = {"start_col": spec.start_date, "tenure_unit": spec.tenure_unit}
        if func == "rates_by_segment":
            defaults["group_col"] = spec.segment
        kwargs.setdefault("tenure_unit", None)
    return dispatch(data, func, defaults=defaults, **kwargs)


def meta_of(r, *, alpha, method, **extra) -> dict:
    """The contract's meta from a :class:`workbench.columns.Resolved`; with frequency weights
    ``n`` and ``events`` count customers (weighted sums), not rows."""
    if r.weights is not None:
        extra.setdefault("n", int(round(float(r.weights.sum()))))
        extra.setdefault("events", int(round(float(r.weights @ r.event))))
        extra.setdefault("weights_col", r.columns["weights_col"])
    return standard_meta(r, alpha=alpha, method=method, tenure_unit=r.unit, **extra)


def wilson(k, n, alpha):
    """Wilson score interval of the proportion ``k / n``."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / den
    return centre - half, centre + half


def poisson_ci(k, exposure, alpha):
    """Exact (Garwood) CI of a rate ``k / exposure``."""
    k = np.asarray(k, dtype=float)
    lo = np.where(k > 0, stats.chi2.ppf(alpha / 2, 2 * k) / 2, 0.0)
    hi = stats.chi2.ppf(1 - alpha / 2, 2 * (k + 1)) / 2
    return lo / exposure, hi / exposure


def dates(frame, cols, analysis_date):
    """Joining dates, leaving (or last-seen) dates, tenure in months and the analysis date."""
    start = pd.to_datetime(frame[cols["start"]], errors="coerce")
    if start.isna().any():
        raise DataValidationError(
            f"column '{cols['start']}' (`start_col`) has {int(start.isna().sum())} missing or unreadable "
            "date(s). Fix or remove them before building periods or cohorts.",
            column=cols["start"],
            rule="dates",
        )
    months = cols["months"]
    end = start + pd.to_timedelta(months * DAYS_PER_MONTH, unit="D")
    if analysis_date is None:
        adate = max(end.max().normalize(), end.max())
    else:
        adate = pd.Timestamp(analysis_date)
        if (start > adate).any():
            raise ParameterError(
                f"`analysis_date` {adate.date()} is before {int((start > adate).sum())} joining date(s) "
                f"(latest {start.max().date()}). Use the date the data were extracted."
            )
    return start, end, months, adate


def unavailable(result_cls, title, msg, columns, meta, key=None):
    """An empty result that says why it is empty (and a :class:`UnavailableWarning`)."""
    warnings.warn(msg, UnavailableWarning, stacklevel=3)
    return result_cls(
        pd.DataFrame(columns=columns),
        {**meta, "available": False, "reason": msg},
        warnings=[msg],
        title=title,
        key=key,
    )


def groups_of(frame, group_col):
    """``[(level, mask)]``: one entry ``(None, all)`` without ``group_col``, else one per level."""
    if not group_col:
        return [(None, np.ones(len(frame), bool))]
    g = frame[group_col]
    levels = (
        [c for c in g.cat.categories if (g == c).any()]
        if isinstance(g.dtype, pd.CategoricalDtype)
        else sorted(pd.unique(g.dropna()).tolist(), key=str)
    )
    g = g.astype("object")
    return [(lvl, (g == lvl).to_numpy()) for lvl in levels]


# ------------------------------------------------------------------------------------- results
class RatesResult(Result):
    """Churn / retention rates in a tidy table; ``plot()`` draws them."""

    title = "Churn and retention rates"

    def plot(self, ax=None, **kwargs):
        from ..plotting.retention import plot_rates

        return plot_rates(self, ax=ax, **kwargs)


class LifecycleResult(RatesResult):
    title = "Churn by lifecycle stage (life table over tenure)"
    key = "stage"

    def plot(self, ax=None, **kwargs):
        from ..plotting.retention import plot_lifecycle

        return plot_lifecycle(self, ax=ax, **kwargs)


class CauseResult(RatesResult):
    title = "Churn by cause"
    key = "cause"

    def plot(self, ax=None, **kwargs):
        from ..plotting.retention import plot_causes

        return plot_causes(self, ax=ax, **kwargs)


class CohortResult(Result):
    """Cohort x months-since-joining table; ``tables['counts']`` and ``tables['retention_pct']`` wide."""

    title = "Retention by joining cohort"
    key = "cohort"

    def _repr_html_(self) -> str:
        """The wide retention-% table (cohorts x months since joining; blank = not yet observable)."""
        import html as _html

        pct = self.tables.get("retention_pct")
        if pct is None or not len(pct):
            return super()._repr_html_()
        wide = pct.round(1)
        wide.columns = [f"m{c}" for c in wide.columns]
        wide = wide.reset_index()
        sizes = self.summary.drop_duplicates("cohort").set_index("cohort")["cohort_size"]
        wide.insert(1, "customers", wide["cohort"].map(sizes).astype(int))
        parts = [self._head_html(f"{self.title} (% still active)")]
        months = {
            c: f"Month {c[1:]}" for c in wide.columns if c.startswith("m") and c[1:].isdigit()
        }
        parts.append(self._table_html(wide, max_rows=120, labels=months))
        parts += [f"<p class='wb-warning'>&#9888; {_html.escape(w)}</p>" for w in self.warnings]
        parts.append("</div>")
        return "".join(parts)

    def plot(self, ax=None, **kwargs):
        from ..plotting.retention import plot_cohort_heatmap

        return plot_cohort_heatmap(self, ax=ax, **kwargs)
