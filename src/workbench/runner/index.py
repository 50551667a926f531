"""``reports/index.html`` (every run, newest first) and ``reports/<batch>/summary.html``.

Both pages are self-contained static HTML (inline CSS, no JavaScript), every value escaped, every
link relative to the page so the folder can be copied or mailed as a whole.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..results import format_number
from .manifest import MANIFEST_FILE, read_manifest, read_results

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0; }
main { max-width: 1200px; margin: 0 auto; padding: 1.5em 2em 3em 2em; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0 1.5em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.7em; text-align: left; vertical-align: top; }
th { background: #f3f5f7; }
.ok { color: #0a6b2d; font-weight: bold; }
.failed, .timed_out, .running, .interrupted { color: #a40000; font-weight: bold; }
.retried { color: #8a5a00; font-size: 0.85em; }
.params, .err { font-family: ui-monospace, monospace; font-size: 0.9em; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #555; }
.scroll { overflow-x: auto; max-width: 100%; }
a { color: #0b5cad; }
.title a { font-weight: 600; }
.sub { color: #57606a; font-size: 0.85em; }
ul.head { margin: 0; padding-left: 1.1em; font-size: 0.9em; }
.source-simulated { background: #fff8e1; padding: 0 0.3em; border-radius: 3px; }
th[title] { cursor: help; }
td.date { white-space: nowrap; }
"""


def _page(title: str, body: str) -> str:
    from .sanitize import sanitize_page

    return sanitize_page(
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def _params_text(params: Mapping[str, Any] | None) -> str:
    from .summary import params_text

    return params_text(params)


def _status(status: str) -> str:
    s = html.escape(str(status))
    return f"<span class='{s}'>{s}</span>"


_TITLE = re.compile(r"<title>(.*?)</title>", re.S | re.I)


def report_title(run_dir: Path, fallback: str) -> str:
    """The report's title (its ``<title>``, read from the first bytes of report.html)."""
    path = Path(run_dir) / "report.html"
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(8192)
    except OSError:
        return fallback
    m = _TITLE.search(head)
    return html.unescape(m.group(1)).strip() if m and m.group(1).strip() else fallback


def headlines(results: Mapping[str, Any], n: int = 3) -> list[str]:
    """The top ``n`` findings of a run (ranked by importance), for the index."""
    from .summary import plain_words, ranked_findings

    return [plain_words(f.text) for f in ranked_findings(results)[:n]]


def collect_runs(out_root: str | Path) -> list[dict]:
    """Every run folder under ``out_root`` (``<stem>/<run>/manifest.json``), newest first."""
    root = Path(out_root)
    runs = []
    for path in root.glob(f"*/*/{MANIFEST_FILE}"):
        m = read_manifest(path.parent)
        if not m:
            continue
        m["_dir"] = path.parent
        runs.append(m)
    runs.sort(key=lambda m: str(m.get("started") or ""), reverse=True)
    return runs


def write_index(out_root: str | Path) -> Path:
    """Rebuild ``<out_root>/index.html``: every run with its report's title, data source, status,
    headline findings, a readable date and its batch; then the batch summaries."""
    from .summary import data_source, readable_date

    root = Path(out_root)
    root.mkdir(parents=True, exist_ok=True)
    runs = collect_runs(root)
    rows = []
    for m in runs:
        d: Path = m["_dir"]
        rel = d.relative_to(root).as_posix()
        stem = str(m.get("notebook_stem") or d.parent.name)
        title = report_title(d, stem)
        report = d / "report.html"
        name = html.escape(title)
        link = f"<a href='{html.escape(rel)}/report.html'>{name}</a>" if report.is_file() else name
        src = data_source(m)
        heads = headlines(read_results(d), 3)
        head_html = (
            "<ul class='head'>" + "".join(f"<li>{html.escape(h)}</li>" for h in heads) + "</ul>"
            if heads
            else ""
        )
        dur = m.get("duration_s")
        batch = str(m.get("batch") or "")
        rows.append(
            "<tr>"
            f"<td class='title'>{link}<div class='sub'>{html.escape(stem)} &middot; run "
            f"{html.escape(str(m.get('run_name') or d.name))} &middot; "
            f"<span class='params'>{html.escape(_params_text(m.get('parameters_given')))}</span></div></td>"
            f"<td><span class='source-{src['kind']}'>{html.escape(src['text'])}</span></td>"
            f"<td>{_status(m.get('status', 'unknown'))}</td>"
            f"<td>{head_html}</td>"
            f"<td class='date'>{html.escape(readable_date(m.get('started')))}"
            f"<div class='sub'>{'' if dur is None else f'{float(dur):.1f} s'}</div></td>"
            f"<td>{html.escape(batch)}</td></tr>"
        )
    batches = sorted(p.parent for p in root.glob("*/batch.json"))
    blinks = "".join(
        f"<li><a href='{html.escape(b.name)}/summary.html'>{html.escape(b.name)}</a></li>"
        for b in batches
        if (b / "summary.html").is_file()
    )
    n_bad = sum(m.get("status") != "ok" for m in runs)
    body = (
        "<h1>Retention Workbench reports</h1>"
        f"<p class='note'>{len(runs)} runs, {n_bad} not ok. Newest first.</p>"
        + (f"<h2>Batch summaries</h2><ul>{blinks}</ul>" if blinks else "")
        + "<h2>Runs</h2><div class='scroll'><table id='runs'><thead><tr><th>report</th><th>data</th>"
        "<th>status</th><th>headline findings</th><th>started</th><th>batch</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    out = root / "index.html"
    out.write_text(_page("Retention Workbench reports", body), encoding="utf-8")
    return out


# ---------------------------------------------------------------------------------- batch summary
LABEL_COLUMNS = ("term", "group", "segment", "covariate", "stratum", "level", "name", "arm")
MAX_COLUMNS = 40


def comparable_values(results: Mapping[str, Any], keys: list[str] | None = None) -> dict[str, Any]:
    """Flatten recorded results to ``column -> value`` for comparing runs: scalars as they are;
    tables of records with an ``estimate`` (``name[label]`` per row, e.g. hazard ratios by
    segment); dicts of scalars as ``name.key``."""
    out: dict[str, Any] = {}
    for name, value in results.items():
        if keys is not None and name not in keys:
            continue
        if name == "key_findings" or str(name).startswith("_"):
            continue
        if isinstance(value, (int, float, str, bool)) and not (
            isinstance(value, str) and len(value) > 80
        ):
            out[name] = value
        elif isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out[f"{name}.{k}"] = v
        elif isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            label = next((c for c in LABEL_COLUMNS if c in value[0]), None)
            if label is None or "estimate" not in value[0]:
                continue
            for r in value[:12]:
                out[f"{name}[{r.get(label)}]"] = r.get("estimate")
    return out


def _cell(v: Any, fmt=None) -> str:
    if v is None:
        return "<td></td>"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        text = fmt(v) if fmt is not None else format_number(v)
        return f"<td class='num'>{html.escape(text)}</td>"
    return f"<td>{html.escape(str(v))}</td>"


_KEYED = re.compile(r"^([^\[.]+)(?:\[(.*)\]|\.(.+))$")


def _format_key(key: str) -> str:
    """The key that decides a compared column's number format: ``cox[term] -> cox``,
    ``interaction_test.p_value -> p_value``."""
    m = _KEYED.match(key)
    if not m:
        return key
    return m.group(3) if m.group(3) is not None else m.group(1)


def column_label(key: str, units: Any = None) -> str:
    """A compared column in words: ``cox[contract[one_year]] -> "Cox: contract: one year"``,
    ``median_tenure -> "Median tenure (months)"``.

    Examples
    --------
    >>> column_label("cox[contract[one_year]]")
    'Cox: contract: one year'
    >>> column_label("rmst_difference")
    'Difference in mean tenure (months)'
    """
    from ..presentation.labels import humanize_term, label

    m = _KEYED.match(key)
    if not m:
        return label(key, units)
    inner = m.group(2) if m.group(2) is not None else m.group(3)
    if m.group(3) is not None:  # name.key: the key is a quantity with a label of its own
        return f"{label(m.group(1), units)}: {label(inner, units)}"
    text = humanize_term(inner)
    if text == inner:
        text = inner.replace("_", " ")
    return f"{label(m.group(1), units)}: {text}"


def write_batch_summary(out_root: str | Path, batch_name: str) -> Path:
    """``<out_root>/<batch>/summary.html``: per notebook, one row per run with status, duration,
    parameters and the recorded results side by side, each linking its report."""
    from .summary import readable_date

    root = Path(out_root)
    folder = root / batch_name
    folder.mkdir(parents=True, exist_ok=True)
    state = {}
    if (folder / "batch.json").is_file():
        state = json.loads((folder / "batch.json").read_text())
    entries = state.get("runs", [])
    keys = state.get("compare")
    by_nb: dict[str, list[dict]] = {}
    for e in entries:
        run_dir = Path(e["run_dir"])
        m = read_manifest(run_dir) or {}
        by_nb.setdefault(str(m.get("notebook_stem") or Path(e["notebook"]).stem), []).append(
            {"entry": e, "manifest": m, "results": read_results(run_dir), "dir": run_dir}
        )
    counts = {s: sum(e.get("status") == s for e in entries) for s in ("ok", "failed", "timed_out")}
    skipped = sum(bool(e.get("skipped")) for e in entries)
    retried = sum(int(e.get("attempt") or 1) > 1 for e in entries)
    parts = [
        f"<h1>Batch {html.escape(batch_name)}</h1>",
        f"<p class='note'>{html.escape(str(state.get('source', '')))}; started {html.escape(readable_date(state.get('started', '')))}; "
        f"{len(entries)} runs: {counts['ok']} ok ({skipped} unchanged, skipped), {counts['failed']} failed, "
        f"{counts['timed_out']} timed out"
        + (f", {retried} retried after their worker died" if retried else "")
        + (f", {int(state['pending'])} not run" if state.get("pending") else "")
        + ". <a href='../index.html'>All reports</a></p>",
    ]
    for stem in sorted(by_nb):
        rows = by_nb[stem]  # in batch.json's order: the batch file's (grid order, not names')
        values = [comparable_values(r["results"], keys) for r in rows]
        cols: list[str] = []
        for v in values:
            for c in v:
                if c not in cols and len(cols) < MAX_COLUMNS:
                    cols.append(c)
        from ..presentation.tables import column_format

        units = (rows[0]["manifest"].get("dataset") or {}).get("units") if rows else None
        fmts = {
            c: column_format(
                _format_key(c), [v.get(c) for v in values if isinstance(v.get(c), int | float)]
            )
            for c in cols
        }
        head = "".join(
            f"<th title='{html.escape(c, quote=True)}'>{html.escape(column_label(c, units))}</th>"
            for c in cols
        )
        body = []
        for r, v in zip(rows, values):
            e, m = r["entry"], r["manifest"]
            rel = Path(e["run_dir"]).relative_to(root).as_posix()
            status = e.get("status", m.get("status", ""))
            err = m.get("error") or e.get("error") or {}
            attempt = int(e.get("attempt") or m.get("attempt") or 1)
            err_txt = f"{err.get('ename', '')}: {err.get('evalue', '')}"[:200] if err else ""
            body.append(
                f"<tr><td><a href='../{html.escape(rel)}/report.html'>"
                f"{html.escape(_params_text(m.get('parameters_given')))}</a>"
                f"<div class='sub'>run {html.escape(e['run_name'])}</div></td>"
                f"<td>{_status(status)}{' (unchanged)' if e.get('skipped') else ''}"
                + (
                    f" <span class='retried' title='{html.escape(str(m.get('retried', '')), quote=True)}'>"
                    f"retried (attempt {attempt})</span>"
                    if attempt > 1
                    else ""
                )
                + "</td>"
                f"<td class='num'>{float(e.get('duration_s') or 0):.1f} s</td>"
                f"<td class='err'>{html.escape(err_txt)}</td>"
                + "".join(_cell(v.get(c), fmts[c]) for c in cols)
                + "</tr>"
            )
        parts.append(
            f"<h2>{html.escape(report_title(rows[0]['dir'], stem))}</h2><div class='scroll'><table class='wb-compare'><thead><tr><th>settings</th><th>status</th>"
            f"<th>duration</th><th>error</th>{head}</tr></thead><tbody>{''.join(body)}"
            "</tbody></table></div>"
        )
    if not entries:
        parts.append("<p>No runs yet.</p>")
    out = folder / "summary.html"
    out.write_text(_page(f"Batch {batch_name}", "".join(parts)), encoding="utf-8")
    return out
