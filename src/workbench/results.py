"""The one result convention shared by every analysis.

Every analysis returns a :class:`Result` (or a subclass named ``*Result``):

``summary``   tidy DataFrame with the shared column names (``term``/``group``, ``estimate``, ``se``,
              ``ci_lower``, ``ci_upper``, ``statistic``, ``df``, ``p_value``, ...)
``meta``      dict: ``n``, ``events``, ``alpha``, ``method``, ``fingerprint`` and whatever else the
              analysis wants to state (exclusions, the switch to a penalised fit, ...)
``tables``    further named DataFrames (e.g. the full survival curve next to the horizon summary)
``warnings``  the caveat messages raised while fitting (they are also raised as warnings)

Results never print. In a notebook they render as an HTML table; ``to_record()`` gives the JSON-safe
records that ``workbench.record`` stores; ``plot(ax=None)`` draws where a picture helps and returns
the Axes.
"""

from __future__ import annotations

import datetime as _dt
import html
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

STANDARD_COLUMNS = (
    "term",
    "group",
    "estimate",
    "se",
    "ci_lower",
    "ci_upper",
    "statistic",
    "df",
    "p_value",
)


def to_jsonable(value: Any) -> Any:
    """Convert ``value`` to plain JSON types (NaN/inf -> None, numpy -> Python, frames -> records)."""
    if isinstance(value, Result):
        return value.to_record()
    if type(value).__name__ == "Finding" and hasattr(value, "to_record"):
        return value.to_record()
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, _dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, pd.Interval):
        return str(value)
    if isinstance(value, str):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def format_number(x: Any, digits: int = 3) -> str:
    """Format a number for reading: ``digits`` significant figures, thousands separators."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x)
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if x == 0:
            return "0"
        if abs(x) >= 10**digits:
            return f"{x:,.0f}"
        if abs(x) < 10 ** (-digits):
            return f"{x:.{digits - 1}e}"
        mag = int(math.floor(math.log10(abs(x))))
        decimals = max(digits - 1 - mag, 0)
        return f"{x:,.{decimals}f}"
    return str(x)


def format_p(p: Any) -> str:
    """Format a p-value: ``<0.001`` below a thousandth, else three decimals."""
    try:
        p = float(p)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def format_table(df: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Return a copy of ``df`` with every cell a readable string (p-value columns as p-values)."""
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        s = df[col]
        if str(col).startswith("p_") or str(col) in {"p_value", "p_adjusted"}:
            out[col] = s.map(format_p)
        elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            out[col] = s.map(lambda v: format_number(v, digits))
        else:
            out[col] = s.map(
                lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            )
    return out


def table_html(df: pd.DataFrame, digits: int = 3, max_rows: int = 60) -> str:
    """Escaped HTML table of ``df`` formatted for reading (never raw 15-digit floats)."""
    shown = df.head(max_rows)
    body = format_table(shown, digits).to_html(
        index=False, escape=True, classes="wb-table", border=0
    )
    if len(df) > max_rows:
        body += f"<p class='wb-note'>{max_rows} of {len(df):,} rows shown.</p>"
    return body


class Result:
    """Base class of every analysis result (see module docstring)."""

    title = "Result"

    def __init__(
        self,
        summary: pd.DataFrame,
        meta: Mapping[str, Any] | None = None,
        *,
        tables: Mapping[str, pd.DataFrame] | None = None,
        warnings: list[str] | None = None,
        title: str | None = None,
    ):
        self.summary = (
            summary.reset_index(drop=True) if isinstance(summary, pd.DataFrame) else summary
        )
        self.meta = dict(meta or {})
        self.tables = dict(tables or {})
        self.warnings = list(warnings or [])
        if title is not None:
            self.title = title

    # -- records ---------------------------------------------------------------------------------
    def to_record(self) -> list[dict]:
        """JSON-safe records of ``summary`` (what ``workbench.record`` stores)."""
        return to_jsonable(self.summary)

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "summary": to_jsonable(self.summary),
            "meta": to_jsonable(self.meta),
            "tables": {k: to_jsonable(v) for k, v in self.tables.items()},
            "warnings": list(self.warnings),
        }

    # -- display ---------------------------------------------------------------------------------
    def _meta_line(self) -> str:
        keys = ("n", "events", "alpha", "method")
        bits = [
            f"{k}={format_number(self.meta[k]) if not isinstance(self.meta[k], str) else self.meta[k]}"
            for k in keys
            if k in self.meta and self.meta[k] is not None
        ]
        return ", ".join(bits)

    def _repr_html_(self) -> str:
        parts = [f"<div class='wb-result'><h4>{html.escape(self.title)}</h4>"]
        line = self._meta_line()
        if line:
            parts.append(f"<p class='wb-meta'>{html.escape(line)}</p>")
        if isinstance(self.summary, pd.DataFrame):
            parts.append(table_html(self.summary))
        for w in self.warnings:
            parts.append(f"<p class='wb-warning'>&#9888; {html.escape(w)}</p>")
        parts.append("</div>")
        return "".join(parts)

    def __repr__(self) -> str:
        n = len(self.summary) if isinstance(self.summary, pd.DataFrame) else "?"
        return f"<{type(self).__name__} '{self.title}': {n} summary rows; {self._meta_line()}>"

    def plot(self, ax=None, **kwargs):
        """Draw the result; subclasses that have a picture override this."""
        raise NotImplementedError(f"{type(self).__name__} has no plot; use .summary")
