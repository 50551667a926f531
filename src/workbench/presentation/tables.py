"""The one formatting layer for every table a report displays.

:func:`table_html` turns a DataFrame into a report table: no index column, headers in words (the
column key in a tooltip), one number format per column (significant digits chosen from the
column, thousands separators, proportions as %, p-values by one rule), intervals as
"0.53 (0.50 to 0.57)", long tables cut with a "show all" expander, wide ones scrolling in their
own box, an optional numbered caption. Notebooks may call it; the report export applies the same
layer to every HTML table a notebook displayed
(:func:`workbench.presentation.html_tables.reformat_tables`).

Rules (per column, decided from its key and all its values):

* p-values (``p_value``, ``p_adjusted``, ``p_holm``, ``..._p``): ``<0.001`` below a thousandth,
  else three decimals;
* proportions (keys naming a rate, share, proportion, survival, retention, probability, with
  every value in [-1, 1]): percent with one decimal;
* whole numbers (every value integral): thousands separators, no decimals (``4893.0 -> 4,893``);
* other numbers: decimals so the column's median magnitude shows three significant digits (at
  most five decimals), the same for every cell of the column;
* ``inf`` as ``∞``, missing as ``–``; snake_case levels and model terms in words.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .labels import Units, humanize_term, label, plain_words, units_from

__all__ = ["format_frame", "table_html", "column_format", "NOTEBOOK_CSS"]

#: the report's table look for a result shown in a notebook (numbers right-aligned, the meta line
#: and caveats muted, a long table's first rows hidden once "show all" is open); the report has
#: its own stylesheet and its exporter drops this block (html_tables.reformat_tables)
NOTEBOOK_CSS = (
    ".wb-result table.wb-table{border-collapse:collapse}"
    ".wb-result table.wb-table td,.wb-result table.wb-table th{text-align:left;"
    "vertical-align:top;padding:.25em .7em;border-bottom:1px solid #ddd}"
    ".wb-result table.wb-table td.num,.wb-result table.wb-table th.num{text-align:right;"
    "font-variant-numeric:tabular-nums}"
    ".wb-result table.wb-table thead th{background:#f3f5f7}"
    ".wb-result .wb-meta{color:#57606a;font-size:.85em;margin:.1em 0}"
    ".wb-result .wb-warning{color:#7a4d00}"
    ".wb-result details.wb-more>summary{cursor:pointer;color:#0b5cad}"
    ".wb-long:has(details[open])>.wb-table-wrap:first-of-type{display:none}"
)
MAX_ROWS = 15  # longer tables show HEAD_ROWS rows and a "show all" expander
HEAD_ROWS = 10
MISSING = "–"
_P_KEYS = re.compile(
    r"^(p|pvalue|p[-_ ]?value.*|p[_ ](adj|adjusted|holm|bh|fdr|bonferroni).*|pr\(>.*)$|.*_p(_value)?$",
    re.I,
)
_PCT_KEYS = re.compile(
    r"(rate|share|proportion|fraction|survival|retention|retained|prob|incidence|churn$|"
    r"p_alive|cif|coverage|churned_pct|share_churned|pct|percent|_diff_pp)",
    re.I,
)
_NOT_PCT = re.compile(r"(^n_|ratio|odds|hazard|count|months|tenure|time|value)", re.I)
_SNAKE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")
_NUM = re.compile(r"^[-+]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][-+]?\d+)?$")
_INTERVAL_PAIRS = (("ci_lower", "ci_upper"), ("lower", "upper"), ("lower_ci", "upper_ci"))
#: interval stems that name another column: ``hr_ci_lower`` / ``hr_ci_upper`` belong to
#: ``hazard_ratio`` (the result contract's hazard-ratio interval beside a log-scale estimate)
_STEM_ALIASES = {"hr": "hazard_ratio"}


# ---------------------------------------------------------------------------------- numbers
def _is_p(key: str) -> bool:
    return bool(_P_KEYS.match(key.strip())) and key.lower() not in {"p_alive"}


def _fmt_p(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _decimals(values: np.ndarray, sig: int = 3) -> int:
    nz = np.abs(values[np.isfinite(values) & (values != 0)])
    if nz.size == 0:
        return 0
    mag = math.floor(math.log10(float(np.median(nz))))
    return int(min(max(sig - 1 - mag, 0), 5))


def column_format(
    key: str, values: Sequence[Any], *, extra_decimals: int = 0, percent: bool = False
):
    """The formatter of one column: a function ``value -> str`` chosen from the key and all values.

    ``extra_decimals`` adds decimals to a number or percent column (an interval whose bounds
    would otherwise print alike, see :func:`format_frame`); ``percent`` says the column holds
    proportions whatever its key (a survival probability named ``estimate``).

    Examples
    --------
    >>> f = column_format("hr", [0.5312, 1.2, 12.0])
    >>> [f(v) for v in (0.5312, 1.2, 12.0)]
    ['0.53', '1.20', '12.00']
    >>> column_format("n", [4893.0, 12.0])(4893.0)
    '4,893'
    >>> column_format("churn_rate", [0.049, 0.1])(0.049)
    '4.9%'
    >>> column_format("p_value", [4.7e-88, 0.2])(4.7e-88)
    '<0.001'
    """
    arr = np.array([_to_float(v) for v in values], dtype=float)
    finite = arr[np.isfinite(arr)]
    k = str(key)
    if _is_p(k):
        kind = "p"
    elif (
        finite.size
        and (percent or (_PCT_KEYS.search(k) and not _NOT_PCT.search(k)))
        and np.all(np.abs(finite) <= 1.0)
    ):
        kind = "pct"
    elif (
        finite.size
        and np.all(np.abs(finite - np.round(finite)) < 1e-9)
        and np.all(np.abs(finite) < 1e15)
    ):
        kind = "int"
    else:
        kind = "float"
    plain = bool(re.search(r"(year|cohort|code|_id$|^id$)", k, re.I))
    dec = _decimals(finite * (100 if kind == "pct" else 1), sig=2 if kind == "pct" else 3)
    if kind == "pct":
        dec = min(max(dec, 1), 2)
    if kind in ("pct", "float"):
        dec += int(extra_decimals)

    def fmt(v: Any) -> str:
        x = _to_float(v)
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return MISSING if not isinstance(v, str) or not v.strip() else str(v)
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        if kind == "p":
            return _fmt_p(x)
        if kind == "pct":
            return f"{100 * x:,.{dec}f}%"
        if kind == "int":
            return f"{int(round(x))}" if plain else f"{int(round(x)):,}"
        text = f"{x:,.{dec}f}"
        if x != 0 and float(text.replace(",", "")) == 0:
            return f"{x:.1e}"
        return text

    fmt.kind = kind  # type: ignore[attr-defined]
    return fmt


def _to_float(v: Any) -> float | None:
    """A number from a cell: numbers as they are; text like ``4,893``, ``1.2e-3``, ``inf``, ``<0.001``."""
    if v is None or isinstance(v, bool | np.bool_):
        return None
    if isinstance(v, int | float | np.integer | np.floating):
        return float(v)
    s = str(v).strip().replace("\u2212", "-")
    if not s or s.lower() in {"nan", "none", "nat", "<na>", "-", "–"}:
        return float("nan")
    if s.lower() in {"inf", "+inf", "∞"}:
        return float("inf")
    if s.lower() in {"-inf", "−∞", "-∞"}:
        return float("-inf")
    if s.startswith("<") and _NUM.match(s[1:].strip()):
        return float(s[1:].replace(",", "")) / 2  # "<0.001": below the bound
    if _NUM.match(s) and any(ch.isdigit() for ch in s):
        return float(s.replace(",", ""))
    return None


def _numeric(col: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(col):
        return False
    if pd.api.types.is_numeric_dtype(col):
        return True
    vals = [_to_float(v) for v in col]
    return all(v is not None for v in vals) and any(
        v is not None and not math.isnan(v) for v in vals
    )


def _text(v: Any, key: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return MISSING
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    s = str(v)
    if s in {"True", "False"}:
        return "yes" if s == "True" else "no"
    if key.lower() in {"term", "covariate", "variable", "contrast"}:
        s = humanize_term(s)
    if _SNAKE.match(s):
        s = s.replace("_", " ")
    return plain_words(s)


# ---------------------------------------------------------------------------------- frames
def _inside(frame: pd.DataFrame, est: str, lo: str, hi: str) -> bool:
    """Whether every row's ``est`` lies within [``lo``, ``hi``] (the interval belongs to it)."""
    e, a, b = (np.array([_to_float(v) for v in frame[c]], dtype=float) for c in (est, lo, hi))
    ok = np.isfinite(e) & np.isfinite(a) & np.isfinite(b)
    if not ok.any():
        return False
    tol = 1e-9 + 1e-6 * np.abs(e[ok])
    return bool(np.all((a[ok] - tol <= e[ok]) & (e[ok] <= b[ok] + tol)))


def _interval_groups(frame: pd.DataFrame, numeric: set[str]) -> list[tuple[str, str, str]]:
    """(estimate, lower, upper) column triples of ``frame``: the estimate is the column the
    interval contains in every row (``estimate`` first, then ratios, then earlier columns), so an
    interval on the hazard-ratio scale is never glued to a log-scale estimate."""
    cols = list(frame.columns)
    by_lower = {c.lower(): c for c in cols}
    out = []
    pairs = [
        (by_lower[lo], by_lower[hi])
        for lo, hi in _INTERVAL_PAIRS
        if lo in by_lower and hi in by_lower
    ]
    for c in cols:  # X_lower / X_upper or X_ci_lower / X_ci_upper beside X
        m = re.match(r"^(.+?)(_ci)?_(lower|low)$", c)
        beside = m and (m.group(1) in cols or _STEM_ALIASES.get(m.group(1)) in cols)
        if beside and c.lower() not in by_lower.get("ci_lower", "").lower():
            stem = f"{m.group(1)}{m.group(2) or ''}"
            hi = next((h for h in (f"{stem}_upper", f"{stem}_high") if h in cols), None)
            if hi:
                pairs.append((c, hi))
    for lo, hi in pairs:
        if lo not in numeric or hi not in numeric:
            continue
        base = (
            re.sub(r"(_ci)?_(lower|low)$", "", lo)
            if lo.lower() not in {p[0] for p in _INTERVAL_PAIRS}
            else ""
        )
        base = _STEM_ALIASES.get(base, base) if base not in cols else base
        skip = {lo, hi, "se", "statistic", "df"}
        cands = [c for c in (base, "estimate") if c in numeric]
        cands += [c for c in cols if c in numeric and re.search(r"ratio|^hr$|exp", c, re.I)]
        cands += [c for c in reversed(cols[: cols.index(lo)]) if c in numeric]
        for est in dict.fromkeys(cands):
            if est not in skip and not _is_p(est) and _inside(frame, est, lo, hi):
                out.append((est, lo, hi))
                break
    return out


def _interval_format(key: str, values: list, lows: list, highs: list, percent: bool = False):
    """The column format of a merged interval, with as many more decimals (up to 3) as it takes for
    every interval whose bounds differ to print them differently (a hazard ratio of 1.0004 per
    year of age reads "1.000 (0.999 to 1.002)", not "1.00 (1.00 to 1.00)")."""
    pairs = [(_to_float(a), _to_float(b)) for a, b in zip(lows, highs)]
    pairs = [(a, b) for a, b in pairs if a is not None and b is not None and a < b]
    pairs = [(a, b) for a, b in pairs if math.isfinite(a) and math.isfinite(b)]
    for extra in range(4):
        f = column_format(key, values, extra_decimals=extra, percent=percent)
        if f.kind not in ("pct", "float") or all(f(a) != f(b) for a, b in pairs):
            return f
    return f


class _RowFormat:
    """Formatters chosen per row (by the row's unit)."""

    def __init__(self, per_unit: dict, units_of: list[str]):
        self.per_unit, self.units_of = per_unit, units_of

    def at(self, i: int):
        return self.per_unit[self.units_of[i]]


def format_frame(
    df: pd.DataFrame,
    *,
    units: Any = None,
    alpha: float | None = None,
    labels: Mapping[str, str] | None = None,
    percent: Sequence[str] = (),
) -> tuple[pd.DataFrame, list[tuple[str, str, bool]]]:
    """Every cell of ``df`` as display text, and the headers as ``(label, key, numeric)``.

    The index is dropped unless it carries information (a name, or labels other than 0..n-1), in
    which case it becomes the first column. Interval triples (``estimate``, ``ci_lower``,
    ``ci_upper``; ``hr``, ``hr_lower``, ``hr_upper``) become one column "Estimate (95% CI)".
    """
    u = units if isinstance(units, Units) else units_from(units)
    frame = df.copy()
    idx = frame.index
    trivial = isinstance(idx, pd.RangeIndex) or (
        idx.nlevels == 1
        and idx.name is None
        and pd.api.types.is_integer_dtype(idx)
        and list(idx)
        == list(range(idx[0] if len(idx) else 0, (idx[0] if len(idx) else 0) + len(idx)))
    )
    if not trivial:
        frame = frame.reset_index()
    if isinstance(frame.columns, pd.MultiIndex):
        frame.columns = [
            " ".join(str(x) for x in c if str(x) and not str(x).startswith("Unnamed"))
            for c in frame.columns
        ]
    frame.columns = [str(c) for c in frame.columns]
    cols = list(frame.columns)
    pct = set(percent)
    fmts = {
        c: column_format(c, list(frame[c]), percent=c in pct) for c in cols if _numeric(frame[c])
    }
    groups = _interval_groups(frame, set(fmts))
    merged: dict[str, tuple[str, str]] = {}
    drop: set[str] = set()
    for est, lo, hi in groups:
        if est in fmts and lo in fmts and hi in fmts and est not in merged:
            allv = list(frame[est]) + list(frame[lo]) + list(frame[hi])
            fmts[est] = _interval_format(
                est, allv, frame[lo].tolist(), frame[hi].tolist(), percent=est in pct
            )
            merged[est] = (lo, hi)
            drop |= {lo, hi}
    # a column of mixed quantities (a ``unit`` column says which): one format per unit
    ucol = next(
        (c for c in cols if c.lower() in ("unit", "units", "scale") and c not in fmts), None
    )
    if ucol is not None:
        units_of = frame[ucol].astype(str).tolist()
        for c in [c for c in fmts if c in merged or c.lower() in ("estimate", "se")]:
            related = [c, *merged.get(c, ())]
            per_unit = {}
            for un in set(units_of):
                rows = [i for i, x in enumerate(units_of) if x == un]
                vals = [frame[r].iat[i] for r in related for i in rows]
                per_unit[un] = column_format(f"{un} {c}", vals)
            fmts[c] = _RowFormat(per_unit, units_of)
    out = pd.DataFrame(index=range(len(frame)))
    headers: list[tuple[str, str, bool]] = []
    names = dict(labels or {})
    from ..findings import ci_label

    ci = ci_label(alpha) if alpha is not None else "CI"
    for c in cols:
        if c in drop:
            continue
        head = names.get(c) or label(c, u)
        col = frame[c].tolist()
        if c in fmts:
            fc = fmts[c]
            row_f = fc.at if isinstance(fc, _RowFormat) else (lambda i, _f=fc: _f)
            if c in merged:
                lo, hi = merged[c]
                los, his = frame[lo].tolist(), frame[hi].tolist()
                vals = []
                for i, (e, a, b) in enumerate(zip(col, los, his, strict=True)):
                    f = row_f(i)
                    fa, fb = _to_float(a), _to_float(b)
                    if fa is None or fb is None or math.isnan(fa) or math.isnan(fb):
                        vals.append(f(e))
                    else:
                        vals.append(f"{f(e)} ({f(a)} to {f(b)})")
                out[c] = vals
                head = f"{head} ({ci})"
            else:
                out[c] = [row_f(i)(v) for i, v in enumerate(col)]
            headers.append((head, c, True))
        else:
            out[c] = [_text(v, c) for v in col]
            headers.append((head, c, False))
    return out, headers


def _rows_html(frame: pd.DataFrame, headers, rows: range) -> str:
    body = []
    for i in rows:
        cells = "".join(
            f"<td class='num'>{html.escape(str(frame.iat[i, j]))}</td>"
            if numeric
            else f"<td>{html.escape(str(frame.iat[i, j]))}</td>"
            for j, (_, _, numeric) in enumerate(headers)
        )
        body.append(f"<tr>{cells}</tr>")
    return "".join(body)


def _table(frame, headers, rows: range, caption: str) -> str:
    head = "".join(
        f"<th title='{html.escape(key, quote=True)}'{' class=num' if numeric else ''}>{html.escape(text)}</th>"
        for text, key, numeric in headers
    )
    # the caption sits above the scroll box (a <caption> would be squeezed to the table's width)
    cap = f"<p class='wb-caption'>{caption}</p>" if caption else ""
    return (
        f"{cap}<div class='wb-table-wrap'><table class='wb-table wb-fmt'><thead><tr>{head}</tr></thead>"
        f"<tbody>{_rows_html(frame, headers, rows)}</tbody></table></div>"
    )


def table_html(
    df: pd.DataFrame,
    *,
    caption: str | None = None,
    number: int | None = None,
    units: Any = None,
    alpha: float | None = None,
    labels: Mapping[str, str] | None = None,
    max_rows: int = MAX_ROWS,
    note: str | None = None,
    percent: Sequence[str] = (),
) -> str:
    """A DataFrame as a report table (see module docstring); escaped HTML.

    Parameters
    ----------
    df : DataFrame
    caption : str, optional
        Shown above the table, after "Table <number>." when ``number`` is given.
    units : spec, Dataset or mapping, optional
        ``tenure_unit`` and ``currency`` for the headers.
    alpha : float, optional
        Labels merged intervals, e.g. "(95% CI)".
    labels : mapping, optional
        Header overrides ``key -> label``.
    percent : sequence of str
        Columns of proportions shown as percentages whatever their key (``estimate`` of a
        survival probability); keys naming a rate, share, survival, ... are found without it.
    max_rows : int
        Longer tables show the first rows and a "show all" expander.

    Examples
    --------
    >>> t = table_html(pd.DataFrame({"term": ["contract[two_year]"], "estimate": [0.531],
    ...                              "ci_lower": [0.5], "ci_upper": [0.57]}), alpha=0.1)
    >>> "0.531 (0.500 to 0.570)" in t and "Estimate (90% CI)" in t and "contract: two year" in t
    True
    """
    frame, headers = format_frame(df, units=units, alpha=alpha, labels=labels, percent=percent)
    cap = ""
    if number is not None:
        cap = f"<strong>Table {int(number)}.</strong> "
    if caption:
        cap += html.escape(caption)
    if note:
        cap += f"<span class='wb-cap-note'>{html.escape(note)}</span>"
    n = len(frame)
    if n <= max_rows:
        return _table(frame, headers, range(n), cap)
    head = _table(frame, headers, range(min(HEAD_ROWS, n)), cap)
    full = _table(frame, headers, range(n), cap)
    return (
        f"<div class='wb-long'>{head}<details class='wb-more'><summary>Show all {n:,} rows "
        f"({HEAD_ROWS} shown)</summary>{full}</details></div>"
    )
