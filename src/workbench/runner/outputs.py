"""Cleaning a notebook's outputs for a report: what a reader should see, without the debug output.

Per code cell output, :class:`OutputCleaner` decides:

* text reprs of objects (``<Axes: ...>``, ``<Figure size ...>``, ``<workbench....>``,
  ``Text(0.5, 1, '...')``, ``[<matplotlib.lines.Line2D ...>]``) are dropped;
* a Python list of the key findings (the value a ``record("key_findings", ...)`` cell returns)
  is dropped: the report shows the findings in its summary and "All findings" sections;
* stderr streams (warnings, progress bars) are dropped: caveats are listed in words at the end;
* an error becomes a short box (class and message; the traceback folded away);
* every image becomes a numbered, captioned figure, or a sentence when it is blank (nothing
  drawn: :func:`image_is_blank`);
* every HTML table goes through the one table layer (:mod:`workbench.presentation.tables`),
  numbered and captioned by the result's title, a ``# Table: ...`` first line, or the section;
* a caveat a result repeats inline (``wb-warning``) is shown the first time only.
"""

from __future__ import annotations

import ast
import base64
import html
import io
import re
from typing import Any

from ..presentation.html_tables import reformat_tables

FIGURE_PREFIX = "# Figure:"
TABLE_PREFIX = "# Table:"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
#: pixel variance (grey levels in [0, 1]) below which an image is blank: an empty canvas is 0, the
#: sparsest real figure of the default reports (a Lorenz curve, thin lines) about 0.006
BLANK_VARIANCE = 0.002
_REPR = re.compile(r"^[\[(]*\s*<[A-Za-z_][\w.]*(?:[ :][^\n]*)?>[\])]*,?\s*$", re.S)
_TEXT_REPR = re.compile(r"^(Text|Line2D|Legend)\(.*\)$", re.S)
_H4 = re.compile(r"<h4>(.*?)</h4>", re.S)
_META = re.compile(r"<p class=['\"]wb-meta['\"]>(.*?)</p>", re.S)
_INLINE_WARNING = re.compile(r"<p class=['\"]wb-warning['\"]>(.*?)</p>", re.S)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_LONG_FLOAT_TEXT = re.compile(r"(?<![\w.])-?\d+\.\d{8,}(?:e[-+]?\d+)?(?![\w.])", re.IGNORECASE)


def shorten_floats(text: str) -> str:
    """Long float literals in text output to four significant figures."""
    from ..results import format_number

    return _LONG_FLOAT_TEXT.sub(lambda m: format_number(float(m.group(0)), 4), text)


def image_is_blank(data: bytes, *, threshold: float = BLANK_VARIANCE) -> bool:
    """Whether a PNG/JPEG shows nothing: low pixel variance, or no coloured pixel and almost no
    ink (an empty set of axes, a figure that only says "no data").

    Examples
    --------
    >>> from PIL import Image
    >>> buf = io.BytesIO(); Image.new("RGB", (40, 30), "white").save(buf, "PNG")
    >>> image_is_blank(buf.getvalue())
    True
    """
    import numpy as np
    from PIL import Image

    try:
        img = Image.open(io.BytesIO(data)).convert("RGB")
    except Exception:
        return False
    px = np.asarray(img)  # uint8 grey levels 0..255; the thresholds below are on the 0..1 scale
    if px.size == 0 or float(px.var()) / 255.0**2 < threshold:
        return True
    r, g, b = px[..., 0], px[..., 1], px[..., 2]
    lo = np.minimum(np.minimum(r, g), b)
    hi = np.maximum(np.maximum(r, g), b)
    coloured = float(np.count_nonzero(hi - lo > 0.25 * 255)) / lo.size  # saturation > 0.25
    ink = float(np.count_nonzero(lo < 0.9 * 255)) / lo.size  # darkest channel < 0.9
    return coloured < 3e-4 and ink < 0.02


def is_debug_repr(text: str) -> bool:
    """Whether a text/plain output is an object repr, not a result.

    Examples
    --------
    >>> is_debug_repr("<Axes: xlabel='tenure'>"), is_debug_repr("[<matplotlib.lines.Line2D at 0x7f>]")
    (True, True)
    >>> is_debug_repr("   median\\n0  28.1")
    False
    """
    t = text.strip()
    return bool(_REPR.match(t) or _TEXT_REPR.match(t))


def is_findings_list(text: str, known: frozenset[str] = frozenset()) -> bool:
    """Whether a text/plain output is a Python list of finding sentences or Finding records
    (long sentences, or any of the ``known`` recorded finding texts)."""
    t = text.strip()
    if not t.startswith("["):
        return False
    if "Finding(" in t:
        return True
    try:
        value = ast.literal_eval(t)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return False
    if not isinstance(value, list) or not value:
        return False
    texts = {
        v if isinstance(v, str) else str(v.get("text", ""))
        for v in value
        if isinstance(v, str | dict)
    }
    if texts & known:
        return True
    return all(
        (isinstance(v, str) and len(v) > 25) or (isinstance(v, dict) and "text" in v) for v in value
    )


def _join(v: Any) -> str:
    return v if isinstance(v, str) else "".join(v)


def _caption_of(source: str, prefix: str) -> str | None:
    first = source.lstrip().splitlines()[0] if source.strip() else ""
    if first.startswith(prefix):
        return first[len(prefix) :].strip() or None
    return None


def heading_of(source: str) -> str | None:
    """The last Markdown heading (``#`` .. ``####``) in a markdown cell's source."""
    last = None
    for line in source.splitlines():
        m = re.match(r"^#{1,4}\s+(.*\S)", line)
        if m:
            last = m.group(1).strip()
    return last


def meta_words(text: str) -> str:
    """A result's meta line in words: ``n=20,000, events=8,243, method=ipw, alpha=0.0500`` ->
    ``20,000 customers, 8,243 churned; method: ipw``.

    Examples
    --------
    >>> meta_words("n=20,000, events=8,243, method=ipw, alpha=0.0500")
    '20,000 customers, 8,243 churned; method: ipw'
    """
    from ..presentation.labels import plain_words

    num = r"(\d{1,3}(?:,\d{3})+|\d+)"
    t = re.sub(r"\bn=" + num, r"\1 customers", text)
    t = re.sub(r"\bevents=" + num, r"\1 churned", t)
    t = re.sub(r",?\s*alpha=[\d.]+", "", t)
    t = re.sub(r",\s*method=", "; method: ", t)
    t = re.sub(r"^method=", "method: ", t)
    t = re.sub(r",\s*intervals: ", "; intervals: ", t)
    t = re.sub(r",\s*reference: ", "; reference: ", t)
    return plain_words(t.strip(" ,;"))


class OutputCleaner:
    """State carried through one notebook: figure and table numbers, caveats already shown."""

    def __init__(
        self,
        *,
        sanitize,
        units=None,
        alpha: float | None = None,
        findings: frozenset[str] = frozenset(),
    ):
        self.sanitize = sanitize  # markup -> (clean markup, ids masked)
        self.findings = findings  # recorded finding texts (their list output is dropped)
        self.units = units
        self.alpha = alpha
        self.n_figures = 0
        self.n_tables = 0
        self.n_blank = 0
        self.n_dropped = 0
        self.masked = 0
        self.section: str | None = None
        self.seen_warnings: set[str] = set()

    # -- pieces --------------------------------------------------------------------------------
    def figure(self, mime: str, data: Any, caption: str) -> str:
        if mime == "image/svg+xml":
            raw = _join(data).encode("utf-8")
            b64 = base64.b64encode(raw).decode("ascii")
        else:
            b64 = _join(data).replace("\n", "")
            raw = base64.b64decode(b64)
            if image_is_blank(raw):
                self.n_blank += 1
                return (
                    f"<p class='wb-empty'>No figure: &ldquo;{html.escape(caption)}&rdquo; has "
                    "nothing to draw in this run (no data for this view).</p>"
                )
        self.n_figures += 1
        n = self.n_figures
        cap = html.escape(caption)
        return (
            f'<figure class="wb-figure" id="figure-{n}"><img alt="{cap}" src="data:{mime};base64,{b64}"/>'
            f"<figcaption><strong>Figure {n}.</strong> {cap}</figcaption></figure>"
        )

    def table_markup(self, markup: str, cell_caption: str | None) -> str:
        clean, masked = self.sanitize(markup)
        self.masked += masked
        title = _H4.search(clean)
        caption = html.unescape(re.sub(r"<[^>]+>", "", title.group(1))).strip() if title else None
        if title:
            clean = _H4.sub("", clean, count=1)
        caption = caption or cell_caption or self.section
        meta = _META.search(clean)
        note = None
        if meta:
            note = meta_words(html.unescape(re.sub(r"<[^>]+>", "", meta.group(1))))
            clean = _META.sub("", clean, count=1)

        def once(m: re.Match) -> str:
            key = " ".join(re.sub(r"<[^>]+>", "", m.group(1)).split())
            if key in self.seen_warnings:
                return ""
            self.seen_warnings.add(key)
            return m.group(0)

        clean = _INLINE_WARNING.sub(once, clean)
        out, n = reformat_tables(
            clean,
            units=self.units,
            alpha=self.alpha,
            caption=caption,
            first_number=self.n_tables + 1,
            note=note,
        )
        self.n_tables += n
        return out

    @staticmethod
    def error(out: dict) -> dict:
        tb = _ANSI.sub("", "\n".join(out.get("traceback") or []))
        body = (
            f"<div class='wb-error'><strong>{html.escape(str(out.get('ename', 'Error')))}</strong>: "
            f"{html.escape(str(out.get('evalue', '')))}"
            + (
                f"<details><summary>Technical details (traceback)</summary><pre>{html.escape(tb)}</pre></details>"
                if tb
                else ""
            )
            + "</div>"
        )
        return {"output_type": "display_data", "metadata": {}, "data": {"text/html": body}}

    # -- one cell ------------------------------------------------------------------------------
    def clean_cell(self, cell) -> list:
        source = cell.get("source", "")
        fig_caption = _caption_of(source, FIGURE_PREFIX)
        table_caption = _caption_of(source, TABLE_PREFIX)
        outputs = []
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream":
                text = _join(out.get("text", ""))
                if out.get("name") == "stderr" or is_debug_repr(text):
                    continue
                outputs.append(out)
                continue
            if kind == "error":
                outputs.append(self.error(out))
                continue
            data = out.get("data", {})
            image = next((m for m in IMAGE_TYPES if m in data), None)
            if image is not None:
                caption = fig_caption or self.section or "Figure"
                new = {"text/html": self.figure(image, data[image], caption)}
            elif "text/html" in data:
                new = {"text/html": self.table_markup(_join(data["text/html"]), table_caption)}
            elif "text/markdown" in data or "text/latex" in data:
                new = {k: v for k, v in data.items() if k in ("text/markdown", "text/latex")}
            elif "text/plain" in data:
                text = _join(data["text/plain"])
                if is_debug_repr(text) or is_findings_list(text, self.findings):
                    self.n_dropped += 1
                    continue
                new = {"text/plain": shorten_floats(text)}
            else:
                continue
            out = dict(out)
            out["data"] = new
            out.pop("execution_count", None)
            if kind == "execute_result":
                out["output_type"] = "display_data"  # no Out[n] prompt anywhere
            outputs.append(out)
        return outputs
