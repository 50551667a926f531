"""From a transaction log to the customer summary: frequency, recency, age T, spend, holdout counts.

One DuckDB query computes everything (same code for a small frame and for a Parquet file of ten
million rows):

* purchase occasions: with ``same_day: merge`` all transactions of a customer on one calendar day
  are one occasion (amount and quantity summed); with ``keep`` each transaction is one occasion;
* ``frequency``: repeat occasions in the calibration period (occasions after the first one);
* ``recency``: time from the first to the last calibration occasion (0 without repeats);
* ``T``: time from the first occasion to the calibration end (the customer's age);
* ``monetary_value``: mean amount of the repeat calibration occasions (the first purchase is left
  out, as in Fader, Hardie & Lee 2005 "RFM and CLV"); ``first_amount`` is kept beside it;
* ``frequency_holdout`` / ``monetary_holdout``: occasions after the calibration end up to the
  analysis date ``observation_end``, and their mean amount;
* ``repeat_first_half`` / ``repeat_second_half``: repeat occasions in the first and second half of
  each customer's own calibration window (first purchase to calibration end), for the trend.

All times are in the spec's ``time_unit`` (days between calendar days divided by its length).
Customers whose first purchase falls after the calibration end are not part of the calibration
cohort: they are excluded and counted; a transaction after ``observation_end`` is refused.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError, ParameterError, RowsExcludedWarning
from ..results import Result
from .transactions import TIME_UNITS, TransactionLog, _one_of

__all__ = ["CustomerSummary", "rfm_summary", "summary_from_arrays"]

EPOCH = pd.Timestamp("1970-01-01")


class CustomerSummary(Result):
    """The per-customer summary (``tables['customers']``) with the split and unit in ``meta``.

    ``summary`` holds cohort-level descriptive figures (``term``, ``estimate``); ``tables`` holds
    ``customers`` (one row per customer of the calibration cohort) and ``tracking`` (repeat
    occasions per period since the cohort's first purchase, calibration and holdout).
    """

    title = "Customer summary (RFM)"

    @property
    def customers(self) -> pd.DataFrame:
        return self.tables["customers"]

    @property
    def time_unit(self) -> str:
        return self.meta["time_unit"]

    def arrays(self, holdout: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(frequency, recency, T)`` as float arrays (the model inputs)."""
        c = self.customers
        return (
            c["frequency"].to_numpy(float),
            c["recency"].to_numpy(float),
            c["T"].to_numpy(float),
        )


def _day(value, name: str) -> float:
    """A date argument as whole days since 1970 (refuses numbers, which hide a time unit)."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        raise ParameterError(
            f"`{name}` must be a date such as '1997-09-30', got the number {value!r}: a bare number "
            "has no time unit. Pass a date string or a Timestamp."
        )
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ParameterError(
            f"`{name}` must be a date such as '1997-09-30', got {value!r}."
        ) from None
    if ts.tzinfo is not None:
        ts = ts.tz_convert(None)
    return float((ts.normalize() - EPOCH).days)


def rfm_summary(
    log: TransactionLog,
    *,
    calibration_end,
    observation_end=None,
    time_unit: str | None = None,
) -> CustomerSummary:
    """Summarise a transaction log into one row per customer for a calibration / holdout split.

    Parameters
    ----------
    log : TransactionLog
        From :func:`load_transactions` (or a registered adapter such as ``cdnow``).
    calibration_end : date
        Last calendar day of the calibration period (inclusive).
    observation_end : date, optional
        The analysis date: last day of the holdout period (inclusive). Default: the last
        transaction's day. A transaction after it is an error.
    time_unit : {'days', 'weeks', 'months', 'years'}, optional
        Overrides the spec's unit for this summary.

    Returns
    -------
    CustomerSummary

    Raises
    ------
    DataValidationError
        Transactions dated after ``observation_end``; no customer purchased in the calibration period.
    ParameterError
        ``calibration_end`` not before ``observation_end``; dates given as bare numbers.

    Examples
    --------
    >>> from workbench.purchases.transactions import TransactionSpec, load_transactions
    >>> df = pd.DataFrame({"id": [1, 1, 1, 2], "day": ["2024-01-01", "2024-01-15", "2024-03-04", "2024-01-08"],
    ...                    "value": [10.0, 20.0, 5.0, 7.0]})
    >>> log = load_transactions(df, TransactionSpec(customer="id", timestamp="day", amount="value"))
    >>> s = rfm_summary(log, calibration_end="2024-01-29", observation_end="2024-03-31")
    >>> s.customers[["frequency", "recency", "T", "frequency_holdout"]].to_numpy().tolist()
    [[1.0, 2.0, 4.0, 1.0], [0.0, 0.0, 3.0, 0.0]]
    """
    import duckdb

    if not isinstance(log, TransactionLog):
        raise ParameterError(
            f"`log` must be a TransactionLog (from workbench.purchases.load_transactions), got "
            f"{type(log).__name__}. Load the raw transactions with their spec first."
        )
    unit = time_unit or log.spec.time_unit
    _one_of("time_unit", unit, tuple(TIME_UNITS))
    u = TIME_UNITS[unit]
    cal = _day(calibration_end, "calibration_end")
    con = duckdb.connect()
    try:
        con.register("log_frame", log.frame)
        merge = log.spec.same_day == "merge"
        day_expr = "floor(epoch(timestamp) / 86400.0)" if merge else "epoch(timestamp) / 86400.0"
        group = "GROUP BY 1, 2" if merge else ""
        agg_amt = "sum(amount)" if merge else "amount"
        agg_q = "sum(quantity)" if merge else "quantity"
        # purchase occasions, each with the customer's first occasion d0 beside it
        con.execute(
            f"CREATE TEMP TABLE occ AS SELECT *, min(d) OVER (PARTITION BY customer_id) AS d0 FROM "
            f"(SELECT customer_id, {day_expr} AS d, {agg_amt} AS amount, {agg_q} AS quantity "
            f"FROM log_frame {group})"
        )
        last_day = con.execute("SELECT max(d) FROM occ").fetchone()[0]
        obs = (
            float(np.floor(last_day))
            if observation_end is None
            else _day(observation_end, "observation_end")
        )
        if not cal < obs:
            raise ParameterError(
                f"`calibration_end` ({EPOCH + pd.Timedelta(days=cal):%Y-%m-%d}) must be before the analysis "
                f"date `observation_end` ({EPOCH + pd.Timedelta(days=obs):%Y-%m-%d}); the holdout period would be empty."
            )
        late = con.execute(
            f"SELECT count(*), list(DISTINCT customer_id)[1:5] FROM occ WHERE d >= {obs + 1}"
        ).fetchone()
        if late[0]:
            raise DataValidationError(
                f"column '{log.spec.timestamp}' fails rule 'no transaction after the analysis date': "
                f"{late[0]:,} purchase occasion(s) fall after observation_end "
                f"{EPOCH + pd.Timedelta(days=obs):%Y-%m-%d} (first customer ids: {list(late[1])}). Move "
                "`observation_end` to the last day of the data, or filter the log to the analysis window.",
                column=log.spec.timestamp,
                rule="no transaction after the analysis date",
                n_rows=int(late[0]),
                examples=list(late[1]),
            )
        cust = con.execute(
            f"""
            SELECT customer_id, min(d0) AS d0,
                   count(*) FILTER (WHERE d < {cal + 1}) - 1 AS frequency,
                   max(d) FILTER (WHERE d < {cal + 1}) - min(d0) AS recency_days,
                   sum(amount) FILTER (WHERE d < {cal + 1}) - arg_min(amount, d) AS repeat_amount,
                   arg_min(amount, d) AS first_amount,
                   count(*) FILTER (WHERE d >= {cal + 1}) AS frequency_holdout,
                   avg(amount) FILTER (WHERE d >= {cal + 1}) AS monetary_holdout,
                   count(*) FILTER (WHERE d > d0 AND d - d0 <= ({cal} - d0) / 2) AS first_half,
                   count(*) FILTER (WHERE d - d0 > ({cal} - d0) / 2 AND d < {cal + 1}) AS second_half
            FROM occ GROUP BY customer_id ORDER BY min(d0), customer_id
            """
        ).df()
        late_first = cust["d0"].to_numpy() >= cal + 1
        n_late = int(late_first.sum())
        cohort = cust.loc[~late_first].reset_index(drop=True)
        if cohort.empty:
            raise DataValidationError(
                f"no customer made a first purchase on or before calibration_end "
                f"{EPOCH + pd.Timedelta(days=cal):%Y-%m-%d}: the calibration cohort is empty. Move "
                "`calibration_end` later.",
                column=log.spec.timestamp,
                rule="calibration cohort not empty",
            )
        start = float(cohort["d0"].min())
        track = con.execute(
            f"""
            SELECT floor((d - {start}) / {u}) AS period, count(*) AS repeat_purchases
            FROM occ WHERE d0 < {cal + 1} AND d > d0
            GROUP BY 1 ORDER BY 1
            """
        ).df()
    finally:
        con.close()
    exclusions = list(log.exclusions)
    if n_late:
        detail = (
            f"{n_late:,} customer(s) whose first purchase is after calibration_end "
            f"(first purchase after calibration): they have no calibration history"
        )
        exclusions.append(
            {"rule": "first purchase after calibration", "n_rows": n_late, "detail": detail}
        )
        warnings.warn(
            f"{detail}; excluded from the calibration cohort.", RowsExcludedWarning, stacklevel=2
        )
    freq = cohort["frequency"].to_numpy(float)
    customers = pd.DataFrame(
        {
            "customer_id": cohort["customer_id"].to_numpy(),
            "first_purchase": (cohort["d0"].to_numpy(float) - start) / u,
            "frequency": freq,
            "recency": cohort["recency_days"].to_numpy(float) / u,
            "T": (cal - cohort["d0"].to_numpy(float)) / u,
            "monetary_value": np.where(
                freq > 0, cohort["repeat_amount"].to_numpy(float) / np.maximum(freq, 1), np.nan
            ),
            "first_amount": cohort["first_amount"].to_numpy(float),
            "frequency_holdout": cohort["frequency_holdout"].to_numpy(float),
            "monetary_holdout": cohort["monetary_holdout"].to_numpy(float),
            "repeat_first_half": cohort["first_half"].to_numpy(float),
            "repeat_second_half": cohort["second_half"].to_numpy(float),
        }
    )
    n_periods = int(np.floor((obs - start) / u)) + 1
    tracking = pd.DataFrame({"period": np.arange(n_periods)})
    tracking = tracking.merge(track.astype({"period": int}), on="period", how="left").fillna(
        {"repeat_purchases": 0}
    )
    tracking["period_end"] = np.minimum((tracking["period"] + 1) * u + start, obs + 1) - start
    tracking["period_end"] = tracking["period_end"] / u
    tracking["holdout"] = (tracking["period"] + 1) * u + start > cal + 1
    meta = {
        "n": len(customers),
        "n_transactions": log.n,
        "time_unit": unit,
        "days_per_unit": u,
        "calibration_start": str((EPOCH + pd.Timedelta(days=start)).date()),
        "calibration_end": str((EPOCH + pd.Timedelta(days=cal)).date()),
        "observation_end": str((EPOCH + pd.Timedelta(days=obs)).date()),
        "calibration_length": (cal - start) / u,
        "holdout_length": (obs - cal) / u,
        "same_day_rule": (
            "all transactions of a customer on one calendar day are one purchase occasion (amounts summed)"
            if log.spec.same_day == "merge"
            else "every transaction is one purchase occasion"
        ),
        "exclusions": exclusions,
        "fingerprint": log.fingerprint,
        "dataset": log.name,
        "method": "DuckDB aggregation of purchase occasions",
    }
    summary = _describe(customers, unit)
    return CustomerSummary(summary, meta, tables={"customers": customers, "tracking": tracking})


def _describe(c: pd.DataFrame, unit: str) -> pd.DataFrame:
    f = c["frequency"]
    rows = [
        ("customers", float(len(c)), "count"),
        ("repeat buyers (share)", float((f > 0).mean()), "share"),
        ("repeat purchases per customer", float(f.mean()), "count"),
        ("mean recency", float(c["recency"].mean()), unit),
        ("mean age T", float(c["T"].mean()), unit),
        ("mean spend per repeat purchase", float(c["monetary_value"].mean()), "money"),
        ("holdout purchases per customer", float(c["frequency_holdout"].mean()), "count"),
    ]
    return pd.DataFrame(rows, columns=["term", "estimate", "unit"])


def summary_from_arrays(
    frequency, recency, T, *, monetary_value=None, time_unit: str = "weeks"
) -> CustomerSummary:
    """A :class:`CustomerSummary` from ready arrays (published tables, simulations)."""
    x = np.asarray(frequency, float)
    c = pd.DataFrame(
        {
            "customer_id": np.arange(1, x.size + 1),
            "first_purchase": np.asarray(T, float).max() - np.asarray(T, float),
            "frequency": x,
            "recency": np.asarray(recency, float),
            "T": np.asarray(T, float),
            "monetary_value": np.nan
            if monetary_value is None
            else np.asarray(monetary_value, float),
            "first_amount": np.nan,
            "frequency_holdout": np.nan,
            "monetary_holdout": np.nan,
        }
    )
    meta = {
        "n": int(x.size),
        "time_unit": time_unit,
        "method": "arrays",
        "exclusions": [],
        "fingerprint": None,
    }
    return CustomerSummary(_describe(c, time_unit), meta, tables={"customers": c})
