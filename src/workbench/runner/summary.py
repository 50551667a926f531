"""The parts of a report around the notebook: navigation, data-source banner, key findings,
all findings, caveats in words, provenance. Every function returns escaped HTML.

What a manager reads first (top of ``report.html``): the title; where the data come from (a
simulated base with its seed, the Telco sample, or the user's file) and the period covered;
at most :data:`MAX_KEY_FINDINGS` findings ranked by importance, each with the caveats that qualify
it. Below the notebook: every finding (never cut) and every caveat grouped by kind, in words, with
the remedy.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..findings import Finding, as_finding
from ..presentation.caveats import group_caveats
from ..presentation.labels import plain_words
from ..results import format_number

MAX_KEY_FINDINGS = 8
#: public sample data sets the workbench reads, by ``dataset`` name
PUBLIC_DATA = {
    "telco": "IBM Telco sample data (public, fictional telecom customers)",
    "cdnow": "CDNOW purchase histories (public sample of CD buyers, 1997-98)",
}
_e = html.escape


# ---------------------------------------------------------------------------------- small pieces
def readable_date(value: Any) -> str:
    """``2026-12-04T17:06:34+00:00 -> "4 Dec 2026, 17:06 UTC"``; unparsable text unchanged.

    Examples
    --------
    >>> readable_date("2026-12-04T17:06:34+00:00")
    '4 Dec 2026, 17:06 UTC'
    """
    if not value:
        return ""
    try:
        t = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC)
    return f"{t.day} {t:%b %Y, %H:%M} UTC"


def _month(value: Any) -> str:
    try:
        t = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{t:%b %Y}"


def params_text(params: Mapping[str, Any] | None) -> str:
    """Parameters as ``name = value`` pairs; ``"default settings"`` when none were given."""
    if not params:
        return "default settings"
    return ", ".join(
        f"{k} = {v if isinstance(v, str) and v else json.dumps(v, default=str)}"
        for k, v in params.items()
    )


def data_source(manifest: Mapping[str, Any]) -> dict[str, str]:
    """``{kind, text, period}``: where the run's data come from, in words, for banners and the index.

    ``kind`` is ``simulated``, ``public`` (Telco, CDNOW), ``file`` or ``unknown``.

    Examples
    --------
    >>> data_source({"dataset": {"name": "synthetic", "n": 20000}, "parameters": {"seed": 0}})["text"]
    'Simulated customers (seed 0, 20,000 customers), not real data'
    """
    ds = manifest.get("dataset") or {}
    params = manifest.get("parameters") or {}
    name = str(ds.get("name") or params.get("dataset") or "")
    n = ds.get("n")
    n_txt = f"{format_number(n)} customers" if n is not None else ""
    if name in ("synthetic", "simulated"):
        seed = params.get("seed", ds.get("seed"))
        bits = ", ".join(b for b in (f"seed {seed}" if seed is not None else "", n_txt) if b)
        kind, text = "simulated", f"Simulated customers ({bits}), not real data"
    elif name in PUBLIC_DATA:
        kind, text = "public", PUBLIC_DATA[name] + (f" ({n_txt})" if n_txt else "")
    elif name:
        src = ds.get("source") or params.get("data_path") or name
        fname = Path(str(src)).name or str(src)
        kind, text = "file", f"Your data: {fname}" + (f" ({n_txt})" if n_txt else "")
    else:
        kind, text = "unknown", "Data as loaded by the notebook (no dataset parameter)"
    period = ds.get("period") or {}
    ptxt = ""
    if period.get("start") and period.get("end"):
        ptxt = f"customers joining {_month(period['start'])} to {_month(period['end'])}"
        if period.get("observed_until"):
            ptxt += f", observed until {_month(period['observed_until'])}"
    return {"kind": kind, "text": text, "period": ptxt}


def ranked_findings(results: Mapping[str, Any]) -> list[Finding]:
    """The recorded ``key_findings`` as :class:`Finding` records ranked by importance (stable)."""
    kf = results.get("key_findings")
    if isinstance(kf, str | dict):
        kf = [kf]
    out = []
    for entry in kf if isinstance(kf, list) else []:
        try:
            out.append(as_finding(entry))
        except (ValueError, TypeError):
            continue
    return sorted(out, key=lambda f: f.importance)


def fallback_findings(results: Mapping[str, Any], limit: int = MAX_KEY_FINDINGS) -> list[Finding]:
    """Sentences from recorded scalar results, for notebooks that record no ``key_findings``."""
    from ..presentation.labels import label

    out = []
    for name, value in results.items():
        if isinstance(value, bool) or value is None or str(name).startswith("_"):
            continue
        if isinstance(value, int | float):
            out.append(Finding(f"{label(name)}: {format_number(value)}"))
        elif isinstance(value, str) and 0 < len(value) < 200:
            out.append(Finding(f"{label(name)}: {value}"))
        if len(out) >= limit:
            break
    return out


def _finding_li(f: Finding) -> str:
    cls = "wb-finding wb-finding-caveat" if f.kind == "caveat" else "wb-finding"
    quals = "".join(f"<span class='wb-qualifier'>{_e(plain_words(c))}</span>" for c in f.caveats)
    see = f"<!-- wb:see {_e(f.section.replace('--', ' '))} -->" if f.section else ""
    return f"<li class='{cls}'>{_e(plain_words(f.text))}{see}{quals}</li>"


# ---------------------------------------------------------------------------------- sections
def nav_html(manifest: Mapping[str, Any]) -> str:
    """Links back to the index and the batch summary (relative: ``<root>/<stem>/<run>/``)."""
    links = ["<a href='../../index.html'>&larr; All reports</a>"]
    if manifest.get("batch"):
        b = str(manifest["batch"])
        links.append(
            f"<a href='../../{_e(b, quote=True)}/summary.html'>Batch &ldquo;{_e(b)}&rdquo; summary</a>"
        )
    return f"<nav class='wb-nav' aria-label='reports'>{' &middot; '.join(links)}</nav>"


def banner_html(manifest: Mapping[str, Any]) -> str:
    src = data_source(manifest)
    period = f"<span class='wb-period'>{_e(src['period'])}</span>" if src["period"] else ""
    return (
        f"<p class='wb-banner wb-source-{src['kind']}' id='data-source'>"
        f"<strong>Data:</strong> {_e(src['text'])}{'; ' if period else ''}{period}</p>"
    )


def key_findings_html(results: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    findings = ranked_findings(results) or fallback_findings(results)
    parts = ["<section id='key-findings' class='wb-box wb-key-findings'><h2>Key findings</h2>"]
    if findings:
        shown = findings[:MAX_KEY_FINDINGS]
        parts.append("<ol>" + "".join(_finding_li(f) for f in shown) + "</ol>")
        notes = []
        if len(findings) > len(shown):
            notes.append(
                f"The {len(shown)} most important of {len(findings)} findings; "
                "<a href='#all-findings'>all findings</a> are listed below the analysis."
            )
        if notes:
            parts.append(f"<p class='wb-note'>{' '.join(notes)}</p>")
        groups = group_caveats(manifest.get("warnings") or [])
        if groups:
            titles = "".join(f"<li>{_e(g['title'])}</li>" for g in groups)
            parts.append(
                "<div class='wb-box-caveats'><strong>Read these numbers with the caveats the "
                f"analysis raised</strong> (<a href='#caveats'>details and remedies</a>):"
                f"<ul>{titles}</ul></div>"
            )
    else:
        parts.append("<p>No results were recorded by this run.</p>")
    parts.append("</section>")
    return "".join(parts)


def all_findings_html(results: Mapping[str, Any]) -> str:
    findings = ranked_findings(results)
    if not findings:
        return ""
    items = "".join(_finding_li(f) for f in findings)
    return (
        "<section id='all-findings' class='wb-box wb-all-findings'><h2>All findings</h2>"
        f"<p class='wb-note'>Every finding of this run, most important first.</p><ol>{items}</ol></section>"
    )


def caveats_html(manifest: Mapping[str, Any], n_masked: int = 0) -> str:
    groups = group_caveats(manifest.get("warnings") or [])
    parts = ["<section id='caveats' class='wb-box wb-caveats'><h2>Caveats</h2>"]
    if n_masked:
        parts.append(
            f"<p class='wb-privacy'>{n_masked:,} customer ids shown in tables were replaced by "
            "pseudonyms (workbench.privacy).</p>"
        )
    if groups:
        items = []
        for g in groups:
            msgs = "".join(
                f"<li>{_e(m)}{f' ({c} times)' if c > 1 else ''}</li>" for m, c in g["messages"]
            )
            remedy = f"<p class='wb-remedy'>{_e(g['remedy'])}</p>" if g["remedy"] else ""
            items.append(
                f"<li class='wb-warning' title='{_e(g['category'], quote=True)}'>"
                f"<strong>{_e(g['title'])}</strong>{remedy}<ul class='wb-details'>{msgs}</ul></li>"
            )
        parts.append("<ul class='wb-caveat-list'>" + "".join(items) + "</ul>")
    else:
        parts.append("<p>No statistical caveats were raised during this run.</p>")
    parts.append("</section>")
    return "".join(parts)


def failure_html(manifest: Mapping[str, Any], cell_label: str | None = None) -> str:
    status = manifest.get("status")
    if status not in ("failed", "timed_out"):
        return ""
    err = manifest.get("error") or {}
    if status == "timed_out":
        head = (
            f"The run was stopped after {format_number(manifest.get('timeout_s'))} s (timed out)."
        )
    else:
        head = "The run failed."
    parts = [
        f"<section id='failure' class='wb-box wb-failure'><h2>Run {_e(str(status).replace('_', ' '))}</h2>",
        f"<p>{_e(head)} What ran before is kept below.</p>",
    ]
    if cell_label:
        parts.append(
            f"<p>It stopped in the section &ldquo;{_e(cell_label)}&rdquo;, at this step:</p>"
        )
    elif err.get("source"):
        parts.append("<p>It stopped at this step:</p>")
    if err.get("source"):
        parts.append(f"<pre class='wb-failing-cell'>{_e(str(err['source']))}</pre>")
    if err.get("ename") or err.get("evalue"):
        parts.append(
            f"<p><strong>{_e(str(err.get('ename', '')))}</strong>: {_e(str(err.get('evalue', '')))}</p>"
        )
    parts.append("</section>")
    return "".join(parts)


def header_html(
    title: str,
    manifest: Mapping[str, Any],
    results: Mapping[str, Any],
    *,
    failing_section: str | None = None,
) -> str:
    status = str(manifest.get("status", "unknown"))
    sub = [f"<span class='wb-status-{_e(status)}'>{_e(status.replace('_', ' '))}</span>"]
    if manifest.get("started"):
        sub.append(_e(readable_date(manifest["started"])))
    sub.append(_e(params_text(manifest.get("parameters_given"))))
    return "".join(
        [
            nav_html(manifest),
            f"<h1 class='wb-title' id='wb-title'>{_e(title)}</h1>",
            banner_html(manifest),
            f"<p class='wb-subtitle'>{' &middot; '.join(sub)}</p>",
            failure_html(manifest, failing_section),
            key_findings_html(results, manifest),
            "<!-- wb:toc -->",
        ]
    )


def provenance_html(manifest: Mapping[str, Any]) -> str:
    ds = manifest.get("dataset") or {}
    git = manifest.get("git") or {}
    versions = manifest.get("packages") or {}
    rows: list[tuple[str, str]] = [
        ("notebook", str(manifest.get("notebook", ""))),
        ("run", str(manifest.get("run_name", ""))),
        ("status", str(manifest.get("status", ""))),
    ]
    if ds:
        rows.append(
            (
                "dataset",
                f"{ds.get('name', '')}: {format_number(ds.get('n'))} customers, "
                f"{format_number(ds.get('events'))} churned ({ds.get('source', '')})",
            )
        )
        rows.append(("data fingerprint", str(ds.get("fingerprint", ""))))
    params = manifest.get("parameters") or {}
    rows.append(("parameters", params_text(params) if params else "none"))
    commit = git.get("commit") or "unknown"
    rows.append(("git commit", f"{commit}{' (uncommitted changes)' if git.get('dirty') else ''}"))
    rows.append(
        (
            "started / ended",
            f"{readable_date(manifest.get('started'))} / {readable_date(manifest.get('ended'))}",
        )
    )
    if manifest.get("duration_s") is not None:
        rows.append(("duration", f"{float(manifest['duration_s']):.1f} s"))
    rows.append(("kernel", str(manifest.get("kernel", ""))))
    rows.append(("versions", ", ".join(f"{k} {v}" for k, v in versions.items())))
    body = "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>" for k, v in rows)
    return (
        "<footer id='provenance' class='wb-provenance'><h2>Provenance</h2>"
        f"<table class='wb-fmt'>{body}</table></footer>"
    )


def footer_html(manifest: Mapping[str, Any], results: Mapping[str, Any], n_masked: int = 0) -> str:
    return all_findings_html(results) + caveats_html(manifest, n_masked) + provenance_html(manifest)


__all__: Sequence[str] = [
    "MAX_KEY_FINDINGS",
    "data_source",
    "footer_html",
    "header_html",
    "params_text",
    "ranked_findings",
    "readable_date",
]
