"""``report.html``: an executed (or partial) notebook exported with nbconvert as a report.

What a reader gets, top to bottom: the title and run status; a failure box (failing cell and
error) when the run failed; "Key findings" from the recorded ``key_findings`` list (fallback:
sentences from the recorded scalar results); a table of contents built from the ``##`` headings;
the notebook's outputs with code hidden (``--show-code`` shows it), each figure of a cell that
starts with ``# Figure: <caption>`` as a ``<figure>`` with its caption; a "Caveats" section with
the warnings the run raised; a provenance footer (dataset fingerprint, parameters, versions,
commit, timings).

Everything is escaped: recorded text and captions with :func:`html.escape`, HTML outputs of the
notebook pass through :func:`sanitize_html` (no script, no event handlers, no ``javascript:``), and
long float literals in tables are shortened to four significant figures. The file is
self-contained (images embedded as data URIs, CSS inline, no JavaScript or CDN).
"""

from __future__ import annotations

import base64
import copy
import html
import json
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ..results import format_number
from .sanitize import sanitize_page

# nbconvert template "templates" in this folder (flat, so package-data `runner/templates/*` ships it)
TEMPLATES = Path(__file__).resolve().parent / "templates"
FIGURE_PREFIX = "# Figure:"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
KEEP_TYPES = ("text/html", "text/markdown", "text/latex", "text/plain", *IMAGE_TYPES)
_BLOCKED = {
    "script",
    "iframe",
    "object",
    "embed",
    "link",
    "meta",
    "base",
    "form",
    "frame",
    "frameset",
}
_VOID = {
    "area",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
_LONG_FLOAT = re.compile(r"^\s*-?\d+\.\d{5,}(e[-+]?\d+)?\s*$", re.IGNORECASE)
_LONG_FLOAT_TEXT = re.compile(r"(?<![\w.])-?\d+\.\d{8,}(?:e[-+]?\d+)?(?![\w.])", re.IGNORECASE)


# ---------------------------------------------------------------------------------- sanitising
ID_COLUMN_NAMES = ("customer_id", "customerid", "customer id", "customer_key")
_PSEUDONYM = re.compile(r"^C-[0-9a-f]{10}$")


class _Sanitizer(HTMLParser):
    def __init__(self, id_names=ID_COLUMN_NAMES):
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.skip = 0
        self.stack: list[str] = []
        self.id_names = {str(n).strip().lower() for n in id_names}
        self.tables: list[set[int]] = []  # per open table: columns holding customer ids
        self.col = -1
        self.in_thead = 0
        self.masked = 0

    def _track(self, tag: str, start: bool) -> None:
        if tag == "table":
            if start:
                self.tables.append(set())
            elif self.tables:
                self.tables.pop()
        elif tag == "thead":
            self.in_thead += 1 if start else -1
        elif tag == "tr" and start:
            self.col = -1
        elif tag in ("td", "th") and start:
            self.col += 1

    def _mask_id(self, data: str) -> str:
        """Pseudonymise a customer id in a column whose header names the id (privacy)."""
        text = data.strip()
        if not self.tables or self.col not in self.tables[-1] or not text:
            return data
        if self.in_thead or text.lower() in self.id_names or _PSEUDONYM.match(text):
            return data
        from ..privacy import pseudonym

        self.masked += 1
        return pseudonym(html.unescape(text))

    def _attrs(self, attrs) -> str:
        bits = []
        for k, v in attrs:
            k = k.lower()
            if k.startswith("on") or k in {"srcdoc", "formaction"}:
                continue
            if v is not None and k in {"href", "src", "action", "xlink:href"}:
                if (
                    re.sub(r"[\s\x00-\x1f]", "", html.unescape(v))
                    .lower()
                    .startswith(("javascript:", "vbscript:"))
                ):
                    continue
            bits.append(k if v is None else f'{k}="{html.escape(v, quote=True)}"')
        return (" " + " ".join(bits)) if bits else ""

    def handle_starttag(self, tag, attrs):
        if tag in _BLOCKED:
            if tag not in _VOID:
                self.skip += 1
            return
        if self.skip:
            return
        self._track(tag, True)
        self.stack.append(tag)
        self.out.append(f"<{tag}{self._attrs(attrs)}>")

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCKED or self.skip:
            return
        self.out.append(f"<{tag}{self._attrs(attrs)} />")

    def handle_endtag(self, tag):
        if tag in _BLOCKED:
            if tag not in _VOID and self.skip:
                self.skip -= 1
            return
        if self.skip:
            return
        self._track(tag, False)
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass
        self.out.append(f"</{tag}>")

    def handle_data(self, data):
        if self.skip:
            return
        if (
            self.stack
            and self.stack[-1] in {"td", "th"}
            and self.out
            and self.out[-1].startswith(("<td", "<th"))
        ):
            m = _LONG_FLOAT.match(data)
            if m:
                data = format_number(float(data), 4)
            if self.stack[-1] == "th" and self.tables and data.strip().lower() in self.id_names:
                self.tables[-1].add(self.col)
            data = self._mask_id(data)
        # data arrive unescaped only for '<' '>' that the parser did not take as markup
        self.out.append(data.replace("<", "&lt;").replace(">", "&gt;"))

    def handle_entityref(self, name):
        if not self.skip:
            self.out.append(f"&{name};")

    def handle_charref(self, name):
        if not self.skip:
            self.out.append(f"&#{name};")

    def handle_comment(self, data):
        return

    def handle_decl(self, decl):
        return

    def unknown_decl(self, data):
        return


def sanitize_html(markup: str, id_names=ID_COLUMN_NAMES) -> str:
    """Drop active content (script, iframe, event handlers, ``javascript:`` links) from ``markup``,
    shorten long float literals in table cells, and replace customer ids in a table column whose
    header is one of ``id_names`` by keyed pseudonyms (:mod:`workbench.privacy`); everything else
    passes unchanged.

    Examples
    --------
    >>> sanitize_html('<td>0.123456789</td><script>alert(1)</script><b onclick="x()">b</b>')
    '<td>0.1235</td><b>b</b>'
    """
    return _sanitize(markup, id_names)[0]


def _sanitize(markup: str, id_names=ID_COLUMN_NAMES) -> tuple[str, int]:
    p = _Sanitizer(id_names)
    p.feed(markup)
    p.close()
    return "".join(p.out), p.masked


def _shorten_floats(text: str) -> str:
    return _LONG_FLOAT_TEXT.sub(lambda m: format_number(float(m.group(0)), 4), text)


# ---------------------------------------------------------------------------------- notebook prep
def _figure_caption(source: str) -> str | None:
    first = source.lstrip().splitlines()[0] if source.strip() else ""
    if first.startswith(FIGURE_PREFIX):
        return first[len(FIGURE_PREFIX) :].strip() or "Figure"
    return None


def _image_html(mime: str, data: Any, caption: str, number: int) -> str:
    if mime == "image/svg+xml":
        raw = data if isinstance(data, str) else "".join(data)
        b64 = base64.b64encode(raw.encode("utf-8")).decode("ascii")
    else:
        b64 = (
            "".join(data).replace("\n", "")
            if isinstance(data, list)
            else str(data).replace("\n", "")
        )
    cap = html.escape(caption)
    return (
        f'<figure class="wb-figure" id="figure-{number}"><img alt="{cap}" src="data:{mime};base64,{b64}"/>'
        f"<figcaption><strong>Figure {number}.</strong> {cap}</figcaption></figure>"
    )


def prepare_notebook(nb, *, show_code: bool = False, id_names=ID_COLUMN_NAMES):
    """A copy of ``nb`` ready for export (see module docstring); also returns the figure count
    and the number of customer ids replaced by pseudonyms."""
    nb = copy.deepcopy(nb)
    cells = []
    n_fig = 0
    n_masked = 0
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if (
            cell.cell_type == "code"
            and tags & {"parameters", "injected-parameters"}
            and not show_code
        ):
            continue
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        caption = _figure_caption(cell.source)
        outputs = []
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream":
                if out.get("name") == "stderr":
                    continue  # warnings are listed under Caveats; progress bars are noise
                outputs.append(out)
                continue
            if kind == "error":
                outputs.append(out)
                continue
            data = {k: v for k, v in out.get("data", {}).items() if k in KEEP_TYPES}
            if not data:
                continue
            image = next((m for m in IMAGE_TYPES if m in data), None)
            if image is not None and caption is not None:
                n_fig += 1
                data = {"text/html": _image_html(image, data[image], caption, n_fig)}
            elif "text/html" in data:
                raw = data["text/html"]
                clean, masked = _sanitize(raw if isinstance(raw, str) else "".join(raw), id_names)
                n_masked += masked
                data = {"text/html": clean}
            elif "text/plain" in data and image is None:
                raw = data["text/plain"]
                data = {
                    "text/plain": _shorten_floats(raw if isinstance(raw, str) else "".join(raw))
                }
            out["data"] = data
            outputs.append(out)
        cell.outputs = outputs
        cells.append(cell)
    nb.cells = cells
    return nb, n_fig, n_masked


def notebook_title(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _drop_title_heading(nb, title: str) -> None:
    """Remove the notebook's own ``# Title`` line: the report's header shows the title."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        for i, line in enumerate(lines):
            if line.startswith("# ") and line[2:].strip() == title:
                cell.source = "\n".join(lines[:i] + lines[i + 1 :])
                return


# ---------------------------------------------------------------------------------- sections
def key_findings(results: Mapping[str, Any], *, limit: int = 8) -> list[str]:
    """The recorded ``key_findings`` list, or sentences built from recorded scalar results."""
    kf = results.get("key_findings")
    if isinstance(kf, str):
        kf = [kf]
    if isinstance(kf, list) and kf:
        return [str(x) for x in kf]
    out = []
    for name, value in results.items():
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, (int, float)):
            out.append(f"{name.replace('_', ' ')}: {format_number(value)}")
        elif isinstance(value, str) and len(value) < 200:
            out.append(f"{name.replace('_', ' ')}: {value}")
        if len(out) >= limit:
            break
    return out


def _failure_html(manifest: Mapping[str, Any]) -> str:
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
        f"<section id='failure' class='wb-box wb-failure'><h2>Run {html.escape(str(status))}</h2>",
        f"<p>{html.escape(head)} What ran before is kept below.</p>",
    ]
    if err.get("cell_index") is not None:
        parts.append(
            f"<p>Failing cell: cell {int(err['cell_index']) + 1} of the executed notebook "
            "(counting the injected parameters cell):</p>"
        )
    if err.get("source"):
        parts.append(f"<pre class='wb-failing-cell'>{html.escape(str(err['source']))}</pre>")
    if err.get("ename") or err.get("evalue"):
        parts.append(
            f"<p><strong>{html.escape(str(err.get('ename', '')))}</strong>: "
            f"{html.escape(str(err.get('evalue', '')))}</p>"
        )
    parts.append("</section>")
    return "".join(parts)


def _header_html(title: str, manifest: Mapping[str, Any], results: Mapping[str, Any]) -> str:
    status = str(manifest.get("status", "unknown"))
    params = manifest.get("parameters_given") or {}
    sub = [f"<span class='wb-status-{html.escape(status)}'>{html.escape(status)}</span>"]
    if manifest.get("notebook"):
        sub.append(html.escape(str(manifest["notebook"])))
    if manifest.get("started"):
        sub.append(html.escape(str(manifest["started"])))
    if params:
        sub.append(
            html.escape(", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in params.items()))
        )
    parts = [
        f"<h1 class='wb-title' id='wb-title'>{html.escape(title)}</h1>",
        f"<p class='wb-subtitle'>{' &middot; '.join(sub)}</p>",
        _failure_html(manifest),
    ]
    findings = key_findings(results)
    parts.append("<section id='key-findings' class='wb-box wb-key-findings'><h2>Key findings</h2>")
    if findings:
        parts.append("<ul>" + "".join(f"<li>{html.escape(f)}</li>" for f in findings) + "</ul>")
    else:
        parts.append("<p>No results were recorded by this run.</p>")
    parts.append("</section><!-- wb:toc -->")
    return "".join(parts)


def _caveats_html(manifest: Mapping[str, Any], n_masked: int = 0) -> str:
    warns = manifest.get("warnings") or []
    parts = ["<section id='caveats' class='wb-box wb-caveats'><h2>Caveats</h2>"]
    if n_masked:
        parts.append(
            f"<p class='wb-privacy'>{n_masked:,} customer ids shown in tables were replaced by "
            "pseudonyms (workbench.privacy).</p>"
        )
    if warns:
        items = []
        for w in warns:
            count = int(w.get("count", 1) or 1)
            times = f" (&times;{count})" if count > 1 else ""
            items.append(
                f"<li class='wb-warning'><strong>{html.escape(str(w.get('category', 'Warning')))}</strong>: "
                f"{html.escape(str(w.get('message', '')))}{times}</li>"
            )
        parts.append("<ul>" + "".join(items) + "</ul>")
    else:
        parts.append("<p>No statistical caveats were raised during this run.</p>")
    parts.append("</section>")
    return "".join(parts)


def _provenance_html(manifest: Mapping[str, Any]) -> str:
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
    rows.append(
        (
            "parameters",
            ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in params.items()) or "none",
        )
    )
    commit = git.get("commit") or "unknown"
    rows.append(("git commit", f"{commit}{' (uncommitted changes)' if git.get('dirty') else ''}"))
    rows.append(("started / ended", f"{manifest.get('started', '')} / {manifest.get('ended', '')}"))
    if manifest.get("duration_s") is not None:
        rows.append(("duration", f"{float(manifest['duration_s']):.1f} s"))
    rows.append(("kernel", str(manifest.get("kernel", ""))))
    rows.append(("versions", ", ".join(f"{k} {v}" for k, v in versions.items())))
    body = "".join(
        f"<tr><th>{html.escape(k)}</th><td><code>{html.escape(v)}</code></td></tr>" for k, v in rows
    )
    return f"<footer id='provenance' class='wb-provenance'><h2>Provenance</h2><table>{body}</table></footer>"


_H2 = re.compile(r'<h2 id="([^"]+)"[^>]*>(.*?)</h2>', re.DOTALL)


def _toc_html(body: str) -> str:
    items = []
    for anchor, inner in _H2.findall(body):
        text = re.sub(r"<a class=\"anchor-link\".*?</a>", "", inner, flags=re.DOTALL)
        text = html.unescape(re.sub(r"<[^>]+>", "", text)).strip()
        if text:
            items.append(
                f'<li><a href="#{html.escape(html.unescape(anchor), quote=True)}">{html.escape(text)}</a></li>'
            )
    if not items:
        return ""
    return (
        f'<nav class="wb-box wb-toc" id="contents"><h2>Contents</h2><ol>{"".join(items)}</ol></nav>'
    )


# ---------------------------------------------------------------------------------- export
def export_report(
    notebook_path: str | Path,
    out_path: str | Path,
    *,
    manifest: Mapping[str, Any] | None = None,
    results: Mapping[str, Any] | None = None,
    show_code: bool = False,
    title: str | None = None,
) -> Path:
    """Write ``out_path`` (report.html) for the executed notebook at ``notebook_path``.

    Parameters
    ----------
    notebook_path : path
        The executed (or partially executed) notebook.
    out_path : path
        Where to write the HTML.
    manifest, results : mapping, optional
        The run's manifest and recorded results (read from the notebook's folder when omitted).
    show_code : bool
        Show the code cells (hidden by default, nbconvert ``exclude_input``).
    title : str, optional
        Defaults to the notebook's first ``#`` heading, else its file name.
    """
    import nbformat
    from nbconvert import HTMLExporter

    from .manifest import read_manifest, read_results

    notebook_path = Path(notebook_path)
    run_dir = notebook_path.parent
    manifest = dict(manifest if manifest is not None else (read_manifest(run_dir) or {}))
    results = dict(results if results is not None else read_results(run_dir))
    nb = nbformat.read(str(notebook_path), as_version=4)
    stem = Path(str(manifest.get("notebook", notebook_path.stem))).stem
    title = title or notebook_title(nb, stem)
    ds = manifest.get("dataset") or {}
    id_names = (*ID_COLUMN_NAMES, *([ds["id_col"]] if ds.get("id_col") else []))
    prepared, _, n_masked = prepare_notebook(nb, show_code=show_code, id_names=id_names)
    _drop_title_heading(prepared, title)
    prepared.metadata["title"] = title
    exporter = HTMLExporter(
        template_name=TEMPLATES.name,
        extra_template_basedirs=[str(TEMPLATES.parent)],
        exclude_input=not show_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    resources = {
        "wb_css": (TEMPLATES / "report.css").read_text(),
        "wb_header": _header_html(title, manifest, results),
        "wb_footer": _caveats_html(manifest, n_masked) + _provenance_html(manifest),
        "metadata": {"name": stem},
    }
    body, _ = exporter.from_notebook_node(prepared, resources=resources)
    body = body.replace("<!-- wb:toc -->", _toc_html(body), 1)
    out = Path(out_path)
    out.write_text(sanitize_page(body), encoding="utf-8")  # the strict allow-list, last
    return out
