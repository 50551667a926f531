"""Tables a notebook displayed as HTML (pandas' own markup, a result's table), read back and
re-rendered by the one formatting layer (:func:`workbench.presentation.tables.table_html`) when
the report is exported: :func:`parse_table` reads one ``<table>``, :func:`reformat_tables` every
table of an output."""

from __future__ import annotations

import html
import re
from typing import Any

import pandas as pd

from .tables import table_html

__all__ = ["parse_table", "reformat_tables"]

_STYLE = re.compile(r"<style\b[^>]*>.*?</style>", re.S | re.I)
_ROW = re.compile(r"<tr\b[^>]*>(.*?)</tr>", re.S | re.I)
_CELL = re.compile(r"<(th|td)\b([^>]*)>(.*?)</\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
_SPAN = re.compile(r"(rowspan|colspan)\s*=\s*['\"]?(\d+)", re.I)
_Q = "['\"]"
#: a table this layer formatted (``formatted``: its scroll box; ``</summary>`` before it marks the
#: full copy of a long table), or any other table
_UNITS = re.compile(
    rf"(?P<formatted>(?P<full></summary>)?<div class={_Q}wb-table-wrap{_Q}>"
    rf"<table class={_Q}wb-table wb-fmt{_Q})|(?P<table><table\b[^>]*>.*?</table>)",
    re.S | re.I,
)
_CAPTION_END = re.compile(rf"<p class={_Q}wb-caption{_Q}>(?:(?!<p\b).)*</p>\s*$", re.S | re.I)


def parse_table(markup: str) -> pd.DataFrame | None:
    """A DataFrame of cell texts from one HTML table as pandas / the workbench write it, or
    ``None`` when the table is not a plain grid (nested tables, links or images in cells)."""
    if re.search(r"<(table|img|a)\b", markup[6:], re.I):
        return None
    rows = []
    for m in _ROW.finditer(markup):
        cells = []
        for tag, attrs, inner in _CELL.findall(m.group(1)):
            spans = dict((k.lower(), int(v)) for k, v in _SPAN.findall(attrs))
            text = html.unescape(_TAG.sub("", inner)).strip()
            cells.append((tag.lower(), text, spans.get("colspan", 1), spans.get("rowspan", 1)))
        rows.append(cells)
    if not rows:
        return None
    grid: list[list[tuple[str, str]]] = []
    pending: dict[int, tuple[tuple[str, str], int]] = {}  # col -> (cell, rows left)
    for cells in rows:
        line: list[tuple[str, str]] = []
        it = iter(cells)
        col = 0
        while True:
            if col in pending:
                cell, left = pending[col]
                line.append(cell)
                if left <= 1:
                    del pending[col]
                else:
                    pending[col] = (cell, left - 1)
                col += 1
                continue
            nxt = next(it, None)
            if nxt is None:
                break
            tag, text, cs, rs = nxt
            for k in range(cs):
                line.append((tag, text if k == 0 else ""))
                if rs > 1:
                    pending[col] = ((tag, text), rs - 1)
                col += 1
        grid.append(line)
    n_head = 0
    while n_head < len(grid) and all(t == "th" for t, _ in grid[n_head]):
        n_head += 1
    body = grid[n_head:]
    if n_head == 0:
        return None
    if not body:  # headers only: nothing to show
        return pd.DataFrame()
    width = max(len(r) for r in grid)
    n_index = 0
    while n_index < width and all(len(r) > n_index and r[n_index][0] == "th" for r in body):
        n_index += 1
    heads = grid[:n_head]
    index_names = []
    if (
        n_head > 1
        and all(not t for _, t in heads[-1][n_index:])
        and any(t for _, t in heads[-1][:n_index])
    ):
        index_names = [t for _, t in heads[-1][:n_index]]  # pandas' index-name row
        heads = heads[:-1]
    keys = []
    for j in range(width):
        parts = [r[j][1] for r in heads if j < len(r) and r[j][1]]
        keys.append(" ".join(dict.fromkeys(parts)))
    for j in range(n_index):
        keys[j] = (index_names[j] if j < len(index_names) else "") or keys[j]
    data = [[r[j][1] if j < len(r) else "" for j in range(width)] for r in body]
    frame = pd.DataFrame(data, columns=range(width))
    # a pandas 0..n-1 index without a name is no information: drop it
    drop = []
    for j in range(n_index):
        vals = frame[j].tolist()
        if (
            not keys[j]
            and all(v.isdigit() for v in vals)
            and [int(v) for v in vals] == list(range(int(vals[0]), int(vals[0]) + len(vals)))
        ):
            drop.append(j)
    frame = frame.drop(columns=drop)
    names = [keys[j] or ("" if j >= n_index else "item") for j in frame.columns]
    seen: dict[str, int] = {}
    uniq = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        uniq.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    frame.columns = uniq
    return frame.reset_index(drop=True)


def reformat_tables(
    markup: str,
    *,
    units: Any = None,
    alpha: float | None = None,
    caption: str | None = None,
    first_number: int = 1,
    note: str | None = None,
) -> tuple[str, int]:
    """Every plain HTML table in ``markup`` through :func:`table_html` (numbered from
    ``first_number``, captioned by ``caption``); tables it cannot read keep their content and
    get a scroll box. A table :func:`table_html` already formatted is kept as it is; without a
    caption of its own (a result's summary) it gets the numbered caption, once (a long table's
    "show all" copy repeats it, as :func:`table_html` does). Returns the markup and the number of
    tables numbered.

    Examples
    --------
    >>> done = table_html(pd.DataFrame({"estimate": [0.5]}))
    >>> out, n = reformat_tables(done, caption="Model", first_number=3)
    >>> n, out.count("<strong>Table 3.</strong> Model")
    (1, 1)
    """
    n = 0
    markup = _STYLE.sub("", markup)

    def numbered_caption() -> str:
        text = f"<strong>Table {first_number + n - 1}.</strong> "
        text += html.escape(caption) if caption else ""
        if note and n == 1:
            text += f"<span class='wb-cap-note'>{html.escape(note)}</span>"
        return f"<p class='wb-caption'>{text}</p>"

    def repl(m: re.Match) -> str:
        nonlocal n
        raw = m.group(0)
        if m.group("formatted"):
            full = m.group("full") or ""
            if _CAPTION_END.search(m.string, 0, m.start() + len(full)):
                return raw  # captioned by table_html itself
            if not full:
                n += 1
            return full + numbered_caption() + raw[len(full) :]
        if "wb-fmt" in raw[:200]:
            return raw
        frame = parse_table(raw)
        if frame is None or frame.empty:
            if frame is not None and frame.empty:
                quoted = f"&ldquo;{html.escape(caption)}&rdquo; " if caption else ""
                return f"<p class='wb-empty'>No table: {quoted}has no rows in this run.</p>"
            return f"<div class='wb-table-wrap'>{raw}</div>"
        n += 1
        return table_html(
            frame,
            caption=caption,
            number=first_number + n - 1,
            units=units,
            alpha=alpha,
            note=note if n == 1 else None,
        )

    out = _UNITS.sub(repl, markup)
    return out, n
