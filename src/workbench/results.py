"""The one result convention shared by every analysis.

Every analysis returns a :class:`Result` (or a subclass named ``*Result``):

``summary``   tidy DataFrame with the shared column names (``estimate``, ``se``, ``ci_lower``,
              ``ci_upper``, ``statistic``, ``df``, ``p_value``, ...) and one declared key column,
              ``result.key`` (``term``, ``group``, ``stage``, ...). The interval is on the scale of
              the estimate (a hazard-ratio column may stand beside a log-scale estimate, with its own
              ``hr_ci_lower`` / ``hr_ci_upper``), so ``ci_lower <= estimate <= ci_upper``.
``meta``      dict with at least :data:`REQUIRED_META`: ``n``, ``events``, ``alpha``, ``fingerprint``,
              ``exclusions``, ``reference_levels``, ``method`` (build it with :func:`standard_meta`),
              and whatever else the analysis states (the switch to a penalised fit, ...)
``tables``    further named DataFrames (e.g. the full survival curve next to the horizon summary)
``caveats``   the caveat messages raised while fitting (also raised as named warnings);
              ``warnings`` is the older name of the same list

Results never print. In a notebook they render as an HTML table headed by the interval label
derived from ``meta["alpha"]`` (:func:`workbench.findings.ci_label`); ``to_record()`` gives the
JSON-safe record (title, key, summary, meta, caveats) that ``workbench.record`` stores in
``results.json``; ``plot(ax=None)`` draws where a picture helps and returns the Axes.
"""

from __future__ import annotations

import datetime as _dt
import html
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

#: meta keys every analysis result carries (the contract test checks them)
REQUIRED_META = (
    "n",
    "events",
    "alpha",
    "fingerprint",
    "exclusions",
    "reference_levels",
    "method",
)

#: key columns, in the order a result without a declared ``key`` is searched for one
KEY_COLUMNS = (
    "term",
    "group",
    "stage",
    "period",
    "cause",
    "cohort",
    "segment",
    "hypothesis",
    "type",
    "parameter",
    "quantity",
    "horizon",
    "threshold",
    "level",
    "arm",
    "comparison",
    "name",
)

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


class Deferred:
    """A meta value computed on the first read of :attr:`Result.meta`: for what is costly and
    often unread on the timed path (Harrell's C of a large Cox fit, the fingerprint of a large
    DataFrame). ``fn`` takes no arguments (a :func:`functools.partial` of a module-level function
    keeps the result picklable)."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn

    def __repr__(self) -> str:
        return "<deferred>"


def standard_meta(
    data: Any = None,
    *,
    alpha: float | None,
    method: str,
    n: int | None = None,
    events: int | None = None,
    exclusions: list | None = None,
    reference_levels: Mapping[str, Any] | None = None,
    fingerprint: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The meta dict of the result contract: :data:`REQUIRED_META` first, then ``extra``.

    ``data`` (a Dataset, a DataFrame, or a :class:`workbench.columns.Resolved`) supplies defaults:
    ``n`` = its rows, ``fingerprint`` = its fingerprint, ``exclusions`` = the Dataset's exclusions.

    Examples
    --------
    >>> import pandas as pd
    >>> m = standard_meta(pd.DataFrame({"t": [1.0, 2.0]}), alpha=0.05, method="demo", events=1)
    >>> [m[k] for k in ("n", "events", "alpha", "method")]
    [2, 1, 0.05, 'demo']
    """
    from .columns import Resolved, data_fingerprint

    if isinstance(data, Resolved):
        n = data.n if n is None else n
        events = data.events if events is None else events
        fingerprint = fingerprint or data.fingerprint
        exclusions = list(data.exclusions) if exclusions is None else exclusions
    elif data is not None:
        frame = getattr(data, "frame", data)
        n = len(frame) if n is None else n
        fingerprint = fingerprint or data_fingerprint(data)
        if exclusions is None:
            exclusions = list(getattr(data, "exclusions", []) or [])
    meta = {
        "n": n,
        "events": events,
        "alpha": alpha,
        "fingerprint": fingerprint,
        "exclusions": list(exclusions or []),
        "reference_levels": dict(reference_levels or {}),
        "method": method,
    }
    meta.update(extra)
    return meta


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


class Result:
    """Base class of every analysis result (see module docstring).

    Examples
    --------
    >>> import pandas as pd
    >>> r = Result(pd.DataFrame({"group": ["a"], "estimate": [0.2], "ci_lower": [0.1],
    ...                          "ci_upper": [0.3]}), {"alpha": 0.1})
    >>> r.key, r.ci_label
    ('group', '90% CI')
    >>> sorted(r.to_record())
    ['caveats', 'key', 'meta', 'summary', 'title']
    """

    title = "Result"
    #: the summary's key column; subclasses declare it, else it is the first of KEY_COLUMNS present
    key: str | None = None
    #: how the notebook and report tables show summary columns: header labels (``estimate`` of
    #: a survival curve reads "Survival") and columns of proportions shown as percentages
    column_labels: dict[str, str] = {}
    percent_columns: tuple[str, ...] = ()

    def __init__(
        self,
        summary: pd.DataFrame,
        meta: Mapping[str, Any] | None = None,
        *,
        tables: Mapping[str, pd.DataFrame] | None = None,
        warnings: list[str] | None = None,
        title: str | None = None,
        key: str | None = None,
    ):
        self.summary = (
            summary.reset_index(drop=True) if isinstance(summary, pd.DataFrame) else summary
        )
        self._meta = dict(meta or {})
        self.tables = dict(tables or {})
        self.warnings = list(warnings or [])
        if title is not None:
            self.title = title
        if key is not None:
            self.key = key
        elif self.key is None and isinstance(self.summary, pd.DataFrame):
            self.key = next((c for c in KEY_COLUMNS if c in self.summary.columns), None)

    @property
    def meta(self) -> dict:
        """The contract's meta (n, events, alpha, fingerprint, exclusions, reference levels,
        method, ...); :class:`Deferred` values are computed here, on first read."""
        m = self._meta
        for k, v in m.items():
            if isinstance(v, Deferred):
                m[k] = v.fn()
        return m

    @meta.setter
    def meta(self, value: Mapping[str, Any]) -> None:
        self._meta = value if isinstance(value, dict) else dict(value)

    @property
    def caveats(self) -> list[str]:
        """The caveats raised while computing this result (messages of named warnings)."""
        return self.warnings

    @property
    def ci_label(self) -> str:
        """The interval label from ``meta["alpha"]`` (``"95% CI"`` at 0.05), never a literal."""
        from .findings import ci_label

        alpha = self.meta.get("alpha")
        return ci_label(alpha) if alpha is not None else "CI"

    # -- records ---------------------------------------------------------------------------------
    def records(self) -> list[dict]:
        """JSON-safe records of ``summary`` alone."""
        return to_jsonable(self.summary)

    def to_record(self) -> dict[str, Any]:
        """JSON-safe record: ``title``, ``key``, ``summary`` (records), ``meta`` and ``caveats``.

        ``workbench.record(name, result)`` stores the summary records under ``name`` and the rest
        under ``results["meta"][name]`` in ``results.json``.
        """
        return {
            "title": self.title,
            "key": self.key,
            "summary": self.records(),
            "meta": to_jsonable(self.meta),
            "caveats": list(self.caveats),
        }

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
        keys = ("n", "events", "method")
        bits = [
            f"{k}={format_number(self.meta[k]) if not isinstance(self.meta[k], str) else self.meta[k]}"
            for k in keys
            if k in self.meta and self.meta[k] is not None
        ]
        if self.meta.get("alpha") is not None and isinstance(self.summary, pd.DataFrame):
            if "ci_lower" in self.summary.columns:
                bits.append(f"intervals: {self.ci_label}")
            else:
                bits.append(f"alpha={format_number(self.meta['alpha'])}")
        refs = self.meta.get("reference_levels") or {}
        if refs:
            bits.append("reference: " + ", ".join(f"{k}={v}" for k, v in refs.items()))
        n_ex = sum(
            int(e.get("n_rows", 0) or 0)
            for e in self.meta.get("exclusions") or []
            if isinstance(e, Mapping)
        )
        if n_ex:
            bits.append(f"{n_ex:,} rows excluded")
        return ", ".join(bits)

    def _head_html(self, title: str | None = None) -> str:
        """The opening of the notebook view: the table style, the title and the meta line."""
        from .presentation.tables import NOTEBOOK_CSS

        parts = [f"<style>{NOTEBOOK_CSS}</style><div class='wb-result'>"]
        parts.append(f"<h4>{html.escape(title or self.title)}</h4>")
        line = self._meta_line()
        if line:
            parts.append(f"<p class='wb-meta'>{html.escape(line)}</p>")
        return "".join(parts)

    def _table_html(self, frame: pd.DataFrame, **kwargs: Any) -> str:
        """``frame`` through the report's table layer (:func:`workbench.presentation.tables.table_html`):
        the intervals labelled from ``meta["alpha"]``, the units from ``meta``; an empty frame is a
        sentence."""
        from .presentation.tables import table_html

        if not len(frame):
            return (
                f"<p class='wb-empty'>No table: &ldquo;{html.escape(self.title)}&rdquo; has no "
                "rows in this run.</p>"
            )
        kwargs.setdefault("labels", {k: v for k, v in self.column_labels.items() if k in frame})
        kwargs.setdefault("percent", [c for c in self.percent_columns if c in frame])
        return table_html(frame, alpha=self.meta.get("alpha"), units=self.meta, **kwargs)

    def _repr_html_(self) -> str:
        """Title, meta line, the summary as the report formats it, then the caveats.

        The same markup as the exported report: the report moves the title and the meta line
        into the table's numbered caption (:class:`workbench.runner.outputs.OutputCleaner`).
        """
        parts = [self._head_html()]
        if isinstance(self.summary, pd.DataFrame):
            parts.append(self._table_html(self.summary))
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
