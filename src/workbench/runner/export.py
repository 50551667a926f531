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

import copy
import html
import re
from collections.abc import Mapping
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ..results import format_number
from .sanitize import DROP_WITH_CONTENT, VOID, sanitize_page

# nbconvert template "templates" in this folder (flat, so package-data `runner/templates/*` ships it)
TEMPLATES = Path(__file__).resolve().parent / "templates"
# removed with their content / without a closing tag: the strict sanitiser's lists (one home)
_BLOCKED = DROP_WITH_CONTENT | {"meta"}
_VOID = VOID
_LONG_FLOAT = re.compile(r"^\s*-?\d+\.\d{5,}(e[-+]?\d+)?\s*$", re.IGNORECASE)


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
        self.formatted: list[bool] = []  # per open table: formatted by the table layer (wb-fmt)
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
        if tag == "table":
            self.formatted.append("wb-fmt" in (dict(attrs).get("class") or "").split())
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
        if tag == "table" and self.formatted:
            self.formatted.pop()
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
            # raw floats to four significant figures, except in tables the table layer formatted
            # (their cells already read as the report shows them: 0.00020 stays 0.00020)
            if _LONG_FLOAT.match(data) and not (self.formatted and self.formatted[-1]):
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


# ---------------------------------------------------------------------------------- notebook prep
_PAPERMILL_ERROR = "papermill-error-cell-tag"
_OWN_FINDINGS = re.compile(r"^#{1,4}\s+Key findings\s*$", re.I | re.M)


def _is_papermill_marker(cell) -> bool:
    """papermill's "An Exception was encountered at In [n]" cells (the report has its own box)."""
    tags = set(cell.get("metadata", {}).get("tags", []))
    return _PAPERMILL_ERROR in tags or (
        cell.cell_type == "markdown" and "An Exception was encountered at" in cell.source
    )


def prepare_notebook(
    nb,
    *,
    show_code: bool = False,
    id_names=ID_COLUMN_NAMES,
    units=None,
    alpha: float | None = None,
    findings: frozenset[str] = frozenset(),
):
    """A copy of ``nb`` ready for export (see :mod:`workbench.runner.outputs`).

    Returns ``(notebook, cleaner, failing_section)``: the cleaner holds the figure and table
    counts and the number of customer ids replaced by pseudonyms; ``failing_section`` is the
    heading above the first cell that holds an error.
    """
    import nbformat

    from .outputs import OutputCleaner, heading_of

    nb = copy.deepcopy(nb)
    cleaner = OutputCleaner(
        # active content dropped, ids masked, long floats shortened; the strict allow-list
        # (runner.sanitize.sanitize_page) runs over the whole page last
        sanitize=lambda markup: _sanitize(markup, id_names),
        units=units,
        alpha=alpha,
        findings=findings,
    )
    cells = []
    failing_section = None
    for cell in nb.cells:
        if _is_papermill_marker(cell):
            continue
        if cell.cell_type == "markdown":
            cleaner.section = heading_of(cell.source) or cleaner.section
            if _OWN_FINDINGS.search(cell.source):  # the report has its own findings sections
                cell.source = _OWN_FINDINGS.sub("", cell.source)
                if not cell.source.strip():
                    continue
            cells.append(cell)
            continue
        if failing_section is None and any(
            o.get("output_type") == "error" for o in cell.get("outputs", [])
        ):
            failing_section = cleaner.section or "start"
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
        cell.outputs = [nbformat.from_dict(o) for o in cleaner.clean_cell(cell)]
        cell.execution_count = None
        if not show_code and not cell.outputs:
            continue
        cells.append(cell)
    nb.cells = cells
    return nb, cleaner, failing_section


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
    """The texts of the summary box: recorded findings ranked by importance (at most ``limit``),
    else sentences from recorded scalar results."""
    from .summary import fallback_findings, ranked_findings

    found = ranked_findings(results) or fallback_findings(results, limit)
    return [f.text for f in found[:limit]]


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


_HEADING_ID = re.compile(r'<h[1-4] id="([^"]+)"[^>]*>(.*?)</h[1-4]>', re.DOTALL)
_SEE = re.compile(r"<!-- wb:see (.*?) -->")


def _section_links(body: str) -> str:
    """Findings that name their report section link to it ("see: Cox model"); a section that is
    not in the report gets no link."""
    ids: dict[str, str] = {}
    for anchor, inner in _HEADING_ID.findall(body):
        text = re.sub(r"<a class=\"anchor-link\".*?</a>", "", inner, flags=re.DOTALL)
        key = html.unescape(re.sub(r"<[^>]+>", "", text)).strip().lower()
        ids.setdefault(key, html.unescape(anchor))

    def repl(m: re.Match) -> str:
        name = html.unescape(m.group(1)).strip()
        anchor = ids.get(name.lower())
        if anchor is None:
            return ""
        return (
            f' <a class="wb-see" href="#{html.escape(anchor, quote=True)}">'
            f"(see {html.escape(name)})</a>"
        )

    return _SEE.sub(repl, body)


# ---------------------------------------------------------------------------------- export
@lru_cache(maxsize=2)
def _exporter(show_code: bool):
    """One nbconvert exporter per process and setting: its Jinja environment compiles the report
    template once (about 0.3 s), not once per report. Exporting holds no per-report state in it:
    everything a report adds goes in through ``resources``."""
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name=TEMPLATES.name,
        extra_template_basedirs=[str(TEMPLATES.parent)],
        exclude_input=not show_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )


@lru_cache(maxsize=1)
def _css() -> str:
    return (TEMPLATES / "report.css").read_text()


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
    from ..presentation.labels import units_from
    from .summary import footer_html, header_html, ranked_findings

    alpha = (manifest.get("parameters") or {}).get("alpha")
    alpha = float(alpha) if isinstance(alpha, int | float) and 0 < alpha < 1 else None
    prepared, cleaner, failing_section = prepare_notebook(
        nb,
        show_code=show_code,
        id_names=id_names,
        units=units_from(ds.get("units")),
        alpha=alpha,
        findings=frozenset(f.text for f in ranked_findings(results)),
    )
    _drop_title_heading(prepared, title)
    prepared.metadata["title"] = title
    exporter = _exporter(bool(show_code))
    resources = {
        "wb_css": _css(),
        "wb_header": header_html(title, manifest, results, failing_section=failing_section),
        "wb_footer": footer_html(manifest, results, cleaner.masked),
        "metadata": {"name": stem},
    }
    body, _ = exporter.from_notebook_node(prepared, resources=resources)
    body = body.replace("<!-- wb:toc -->", _toc_html(body), 1)
    body = _section_links(body)
    out = Path(out_path)
    out.write_text(sanitize_page(body), encoding="utf-8")  # the strict allow-list, last
    return out
