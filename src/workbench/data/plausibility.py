"""Plausibility checks run by :func:`workbench.data.validate`: values that parse but cannot be right.

Each check names the column, shows the numbers, and says which spec key fixes it:

* tenure held as a duration (Parquet / pandas timedelta) is converted by the declared unit,
  never read as nanoseconds;
* tenure implausible for its declared unit (more than a century; days labelled as months) is
  refused with the unit that would make it plausible;
* start date + tenure beyond the analysis date (tenure in the wrong unit, or a wrong date);
* coarse tenure (few distinct values on a whole-year / quarter / week grid with heavy ties) gives a
  :class:`~workbench.exceptions.CoarseTenureWarning` and ``Dataset.tenure_grid``;
* counts and flags (referrals) of the right type: numbers >= 0, or 0/1 / yes/no.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..exceptions import CoarseTenureWarning, DataQualityWarning, DataValidationError
from .units import DAYS_PER_UNIT, MAX_PLAUSIBLE_DAYS, UNITS, detect_grid, timedelta_to_unit

#: columns the analyses read as referral counts or flags when no column is named
COUNT_COLUMNS = ("n_referrals", "number_of_referrals", "referred_a_friend")
FLAG_WORDS = {"yes": 1, "no": 0, "true": 1, "false": 0, "1": 1, "0": 0, "y": 1, "n": 0}


def tenure_from_timedelta(s: pd.Series, col: str, unit: str) -> pd.Series:
    """A timedelta tenure column as a number of ``unit`` (with a note saying so)."""
    out = timedelta_to_unit(s, unit)
    warnings.warn(
        f"column '{col}' holds durations (timedelta); converted to {unit} as the spec's "
        f"`tenure_unit: {unit}` says (median {out.median():.4g} {unit}).",
        DataQualityWarning,
        stacklevel=3,
    )
    return out


def check_tenure_plausible(tenure: pd.Series, col: str, unit: str) -> None:
    """Refuse tenure longer than a century in the declared unit, naming the unit that fits.

    Raises
    ------
    DataValidationError
        Rule ``tenure plausible for unit``, with the largest value, its length in years, and the
        units in which the data would be plausible.
    """
    t = tenure.to_numpy(dtype=float)
    if t.size == 0:
        return
    days = t * DAYS_PER_UNIT[unit]
    too_long = days > MAX_PLAUSIBLE_DAYS
    median_years = float(np.median(days)) / 365.25
    if too_long.any():
        mx = float(np.max(t))
        fits = [u for u in UNITS if np.max(t) * DAYS_PER_UNIT[u] <= MAX_PLAUSIBLE_DAYS]
        med = float(np.median(t))
        # the unit in which the median customer stays closest to a typical 2 years (log scale)
        best = min(
            fits,
            key=lambda u: abs(np.log(max(med * DAYS_PER_UNIT[u] / 365.25, 1e-9) / 2.0)),
            default=None,
        )
        hint = (
            f"If tenure is recorded in {best} (median {med * DAYS_PER_UNIT[best] / 365.25:.3g} years "
            f"then), set `tenure_unit: {best}` in the spec; "
            if best
            else ""
        )
        rows = ", ".join(str(int(i) + 1) for i in np.flatnonzero(too_long)[:5])
        raise DataValidationError(
            f"column '{col}' fails rule 'tenure plausible for unit': {int(too_long.sum()):,} row(s) "
            f"have tenure above 100 years (largest {mx:.4g} {unit} = {mx * DAYS_PER_UNIT[unit] / 365.25:.4g} "
            f"years; median {median_years:.3g} years; first rows: {rows}). {hint}otherwise "
            "correct these values (a placeholder such as 1e30 or 99999?).",
            column=col,
            rule="tenure plausible for unit",
            n_rows=int(too_long.sum()),
        )
    if median_years > 30:
        smaller = [u for u in UNITS if DAYS_PER_UNIT[u] < DAYS_PER_UNIT[unit]]
        warnings.warn(
            f"column '{col}': median tenure is {np.median(t):.4g} {unit} ({median_years:.3g} years), "
            f"implausibly long; is tenure recorded in {' or '.join(smaller) or 'another unit'}? "
            "Check `tenure_unit` in the spec.",
            DataQualityWarning,
            stacklevel=3,
        )


def check_start_plus_tenure(
    start: pd.Series, tenure: pd.Series, *, unit: str, analysis_date, col: str, start_col: str
) -> None:
    """Start date + tenure must not pass the analysis date (by more than one unit of rounding).

    Raises
    ------
    DataValidationError
        More than 1% of customers pass it: tenure is in the wrong unit or the dates are wrong.
    """
    end = (
        pd.Timestamp(analysis_date) if analysis_date is not None else pd.Timestamp.now().normalize()
    )
    given = start.notna().to_numpy()
    if not given.any():
        return
    span_days = (end - start[given]).dt.total_seconds().to_numpy() / 86_400.0
    t_days = tenure.to_numpy(dtype=float)[given] * DAYS_PER_UNIT[unit]
    tol = max(1.0, DAYS_PER_UNIT[unit]) + 1.0
    over = t_days - span_days > tol
    if not over.any():
        return
    n, share = int(over.sum()), float(over.mean())
    worst = float(np.max(t_days[over] - span_days[over]))
    which = "the spec's `analysis_date`" if analysis_date is not None else "today"
    msg = (
        f"column '{col}': for {n:,} customer(s) ({share:.1%}) the start date ('{start_col}') plus "
        f"tenure passes the analysis date {end.date()} ({which}) by up to {worst:,.0f} days. "
        f"Check `tenure_unit: {unit}` (is tenure in a smaller unit?), the start dates, or set "
        "`analysis_date:` in the spec to the date the data were extracted."
    )
    if share > 0.01:
        raise DataValidationError(
            msg, column=col, rule="start + tenure within analysis date", n_rows=n
        )
    warnings.warn(msg, DataQualityWarning, stacklevel=3)


def coarse_tenure(tenure: pd.Series, col: str, unit: str) -> dict | None:
    """Detect a coarse tenure grid; warn with the grid (``CoarseTenureWarning``) and return it."""
    grid = detect_grid(tenure.to_numpy(dtype=float), unit)
    if grid is None:
        return None
    shown = ", ".join(f"{v:g}" for v in grid["values"][:8]) + (
        ", ..." if grid["n_distinct"] > 8 else ""
    )
    warnings.warn(
        CoarseTenureWarning(
            f"column '{col}': tenure is coarse: {grid['n_distinct']} distinct values, all "
            f"{grid['step_name']} ({shown} {unit}; on average {grid['mean_ties']:,.0f} customers share "
            f"a value). Shapes within one step of {grid['step']:g} {unit} cannot be seen; band edges, "
            "stages and periods follow this grid (Dataset.tenure_grid). If the source records "
            "tenure more finely (e.g. start and end dates), use that instead.",
            grid=grid,
        ),
        stacklevel=3,
    )
    return grid


def check_count_or_flag(df: pd.DataFrame, col: str) -> pd.Series:
    """A count (whole numbers >= 0) or a flag (0/1, yes/no, true/false) column, as numbers.

    Raises
    ------
    DataValidationError
        Text that is not a flag word, negative or fractional counts.
    """
    s = df[col]
    if pd.api.types.is_bool_dtype(s):
        return s.astype(int)
    if not pd.api.types.is_numeric_dtype(s):
        low = s.astype("string").str.strip().str.lower()
        mapped = low.map(FLAG_WORDS)
        bad = mapped.isna() & s.notna()
        if bad.any():
            seen = sorted(pd.unique(s[bad].astype(str)).tolist())[:5]
            rows = ", ".join(str(int(i) + 1) for i in np.flatnonzero(bad.to_numpy())[:5])
            raise DataValidationError(
                f"column '{col}' fails rule 'count or flag': {int(bad.sum()):,} row(s) hold text that "
                f"is neither a number nor yes/no (values seen: {seen}; first rows: {rows}). Code it as "
                "a count of referrals (0, 1, 2, ...) or a flag (1/0, yes/no).",
                column=col,
                rule="count or flag",
                n_rows=int(bad.sum()),
            )
        return mapped.astype(float)
    v = s.to_numpy(dtype=float)
    neg = v < 0
    frac = np.isfinite(v) & (np.abs(v - np.round(v)) > 1e-9)
    for mask, problem in ((neg, "are negative"), (frac, "are not whole numbers")):
        if mask.any():
            rows = ", ".join(str(int(i) + 1) for i in np.flatnonzero(mask)[:5])
            raise DataValidationError(
                f"column '{col}' fails rule 'count or flag': {int(mask.sum()):,} row(s) {problem} "
                f"(e.g. {v[mask][0]:g}; first rows: {rows}). A count is 0, 1, 2, ...; a flag is 0/1. "
                "Correct these values, or remove the column if it is not a count.",
                column=col,
                rule="count or flag",
                n_rows=int(mask.sum()),
            )
    return s


def check_rows_left(n_received: int, n_left: int, exclusions: list) -> None:
    """Refuse a data set that the spec's exclusion policies emptied (never analyse 0 customers)."""
    if n_left:
        return
    raise DataValidationError(
        f"no customers are left after exclusions: all {n_received:,} rows were excluded ("
        + "; ".join(f"{e['rule']}: {e['n_rows']:,}" for e in exclusions)
        + "). Check the data, or change the spec's `zero_tenure` / `missing_covariates` policy.",
        rule="rows left after exclusions",
        n_rows=n_received,
    )
