"""The strict report sanitiser: an allow-list of tags and attributes, no active content, no
external resources.

Two entry points, both allow-lists:

* :func:`sanitize_html` for a fragment of data-derived HTML (a notebook's ``text/html`` or
  rendered markdown output), cleaned by ``nh3`` (the Rust ``ammonia`` allow-list sanitiser):
  formatting, tables, lists, images only as ``data:image/...``; no SVG, no forms, no scripts.
* :func:`sanitize_page` for a whole report, index or summary page, run last before the page is
  written: the document tags of our templates, the fragment tags and a static SVG subset survive;
  ``<script>``, ``<iframe>``, ``<object>``, ``<embed>``, ``<link>``, ``<base>``, forms and SVG
  animation (``<animate>``, ``<set>``, ...: they can set ``href`` to ``javascript:``) are removed
  with their content.

In both, every attribute is checked: event handlers (``on*``) are dropped; any attribute whose
value is a ``javascript:`` / ``vbscript:`` / ``data:text/html`` URL (after entity decoding,
whitespace and control characters removed) is dropped; external resources (``http(s):``, ``//``
URLs in ``src``, ``srcset``, ``poster``, ``background``, ``xlink:href`` / ``href`` outside ``<a>``)
are dropped; CSS in ``<style>`` and ``style=`` loses ``@import``, ``expression()``, and every
``url()`` or quoted URL that is not a ``data:`` or in-page ``#`` reference (this covers fonts).
``allow_external=True`` keeps external images, CSS and fonts (an intranet logo, say); links
(``<a href="https://...">``) are always allowed, since following them takes a click.

References
----------
OWASP Cross Site Scripting Prevention Cheat Sheet; ammonia / nh3 (https://nh3.readthedocs.io).
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

FRAGMENT_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
    "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s",
    "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "u", "ul", "var", "wbr",
}  # fmt: skip
DOCUMENT_TAGS = {
    "html", "head", "body", "title", "meta", "style", "main", "section", "nav", "header",
    "footer", "article", "aside", "label", "input",
}  # fmt: skip
SVG_TAGS = {
    "svg", "g", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text",
    "tspan", "defs", "clippath", "use", "title", "desc", "lineargradient", "radialgradient",
    "stop", "pattern", "mask", "symbol", "marker", "image", "metadata",
}  # fmt: skip
#: removed together with everything inside them
DROP_WITH_CONTENT = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "noscript", "template",
    "animate", "set", "animatemotion", "animatetransform", "animatecolor", "foreignobject",
    "form", "button", "select", "textarea", "math", "xmp", "plaintext", "noembed", "noframes",
    "base", "link", "portal", "audio", "video", "source", "track", "canvas", "dialog",
}  # fmt: skip
VOID = {
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
#: attributes never kept, whatever their value
DROP_ATTRS = {
    "srcdoc",
    "formaction",
    "action",
    "ping",
    "http-equiv",
    "autofocus",
    "dynsrc",
    "lowsrc",
}
RESOURCE_ATTRS = {"src", "srcset", "poster", "background", "xlink:href", "href", "data", "codebase"}
FRAGMENT_ATTRS = {
    "*": {"class", "id", "title", "style", "align", "lang", "dir", "role", "tabindex"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "scope", "headers"},
    "col": {"span", "width"},
    "table": {"border", "summary"},
    "ol": {"start", "type"},
    "details": {"open"},
}

_BAD_SCHEME = re.compile(
    r"^(javascript|vbscript|livescript|mocha|data:text/html|data:application|data:image/svg)", re.I
)
_EXTERNAL = re.compile(r"^(https?:|ftp:|//|\\\\)", re.I)
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.I | re.S)
_CSS_QUOTED_URL = re.compile(r"(['\"])\s*(?:https?:|//)[^'\"]*\1", re.I)
_CSS_IMPORT = re.compile(r"@import[^;]*;?", re.I)
_CSS_EXPRESSION = re.compile(r"(expression|behavior|-moz-binding)\s*[(:]", re.I)
_CONTROL = re.compile(r"[\s\x00-\x20\x7f]+")


def _normalised(value: str) -> str:
    """Entity-decoded, whitespace/control-free, lower-case: what a browser would parse as a URL."""
    v = html.unescape(html.unescape(value or ""))
    v = re.sub(r"\\([0-9a-f]{1,6})\s?", lambda m: chr(int(m.group(1), 16)), v, flags=re.I)
    return _CONTROL.sub("", v).lower()


def bad_url(value: str) -> bool:
    """True for ``javascript:`` and other script-bearing URLs, however obfuscated."""
    return bool(_BAD_SCHEME.match(_normalised(value)))


def external_url(value: str) -> bool:
    """True for URLs that load something from another host (``http(s):``, ``//host``)."""
    return bool(_EXTERNAL.match(_normalised(value)))


def _chr(hexdigits: str) -> str:
    code = int(hexdigits, 16)
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"


def clean_css(css: str, *, allow_external: bool = False) -> str:
    """CSS without ``@import``, ``expression()`` and (unless allowed) external ``url()``."""
    # CSS escapes first (``u\\72l(`` is ``url(``): hex escapes and escaped letters are decoded
    out = re.sub(r"\\([0-9a-fA-F]{1,6})\s?", lambda m: _chr(m.group(1)), css)
    out = re.sub(r"\\([g-zG-Z])", r"\1", out)
    out = re.sub(r"/\*.*?\*/", "", out, flags=re.S)  # comments can split tokens in some parsers
    out = _CSS_IMPORT.sub("", out)
    out = _CSS_EXPRESSION.sub("blocked(", out)

    def url(m: re.Match) -> str:
        target = m.group(2)
        n = _normalised(target)
        if bad_url(target) or (not allow_external and not n.startswith(("data:image/", "#"))):
            return "none"
        return m.group(0)

    out = _CSS_URL.sub(url, out)
    if not allow_external:
        out = _CSS_QUOTED_URL.sub('""', out)
    return out


def _attr_ok(tag: str, name: str, value: str | None, *, allow_external: bool) -> bool:
    if name.startswith("on") or name in DROP_ATTRS:
        return False
    if value is None:
        return True
    n = _normalised(value)
    if bad_url(value) or "javascript:" in n or "vbscript:" in n:  # in any attribute, anywhere
        return False
    if name in RESOURCE_ATTRS and not (tag == "a" and name in ("href", "xlink:href")):
        if (
            name in ("href", "xlink:href")
            and tag in ("use", "image")
            and not n.startswith(("#", "data:image/"))
        ):
            return False
        if not allow_external and (
            external_url(value) or any(external_url(p) for p in value.split(","))
        ):
            return False
    if tag == "meta" and name not in ("charset", "name", "content"):
        return False
    return True


class _PageCleaner(HTMLParser):
    def __init__(self, allow_external: bool):
        super().__init__(convert_charrefs=False)
        self.allow_external = allow_external
        self.allowed = FRAGMENT_TAGS | DOCUMENT_TAGS | SVG_TAGS
        self.out: list[str] = []
        self.drop = 0  # depth inside a DROP_WITH_CONTENT element
        self.in_style = False

    def _attrs(self, tag: str, attrs) -> tuple[str, bool]:
        """The kept attributes as markup, and whether anything was dropped or changed."""
        bits, changed = [], False
        for k, v in attrs:
            k = k.lower()
            if not _attr_ok(tag, k, v, allow_external=self.allow_external):
                changed = True
                continue
            if k == "style" and v is not None:
                clean = clean_css(v, allow_external=self.allow_external)
                changed |= clean != v
                v = clean
            bits.append(k if v is None else f'{k}="{html.escape(v, quote=True)}"')
        return ((" " + " ".join(bits)) if bits else ""), changed

    def handle_starttag(self, tag, attrs):
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag, attrs):
        self._start(tag, attrs, closed=True)

    def _start(self, tag, attrs, *, closed: bool):
        tag = tag.lower()
        if tag in DROP_WITH_CONTENT:
            if not closed and tag not in VOID:
                self.drop += 1
            return
        if self.drop or tag not in self.allowed:
            return
        if tag == "input" and any(k == "type" and v not in ("checkbox", "radio") for k, v in attrs):
            return
        self.in_style = tag == "style"
        markup, changed = self._attrs(tag, attrs)
        raw = self.get_starttag_text() or ""
        if not changed and raw.count("<") == 1 and raw.count(">") == 1:
            self.out.append(raw)  # unchanged: keep the author's own quoting
        else:
            self.out.append(f"<{tag}{markup}{' /' if closed else ''}>")

    def handle_endtag(self, tag):
        tag = tag.lower()
        if tag in DROP_WITH_CONTENT:
            if tag not in VOID and self.drop:
                self.drop -= 1
            return
        if self.drop or tag not in self.allowed:
            return
        if tag == "style":
            self.in_style = False
        self.out.append(f"</{tag}>")

    def handle_data(self, data):
        if self.drop:
            return
        if self.in_style:
            self.out.append(
                clean_css(data, allow_external=self.allow_external).replace("</", "<\\/")
            )
        else:
            self.out.append(data.replace("<", "&lt;").replace(">", "&gt;"))

    def handle_entityref(self, name):
        if not self.drop:
            self.out.append(f"&{name};")

    def handle_charref(self, name):
        if not self.drop:
            self.out.append(f"&#{name};")

    def handle_decl(self, decl):
        if decl.lower().startswith("doctype"):
            self.out.append(f"<!{decl}>")

    def handle_comment(self, data):
        return

    def unknown_decl(self, data):
        return

    def handle_pi(self, data):
        return


def sanitize_page(page: str, *, allow_external: bool = False) -> str:
    """A whole HTML page with everything outside the allow-list removed (see module docstring).

    Examples
    --------
    >>> sanitize_page('<p onclick="x()">a</p><svg><set attributeName="href" to="javascript:alert(1)"/></svg>')
    '<p>a</p><svg></svg>'
    >>> sanitize_page('<img src="https://evil.example/t.png" alt="t">')
    '<img alt="t">'
    """
    p = _PageCleaner(allow_external)
    p.feed(page)
    p.close()
    return "".join(p.out)


def _nh3_filter(allow_external: bool):
    def keep(tag: str, attr: str, value: str) -> str | None:
        if not _attr_ok(tag, attr, value, allow_external=allow_external):
            return None
        if (
            tag == "img"
            and attr == "src"
            and not (
                _normalised(value).startswith("data:image/")
                or (allow_external and external_url(value))
            )
        ):
            return None
        if attr == "style":
            return clean_css(value, allow_external=allow_external)
        return value

    return keep


def sanitize_html(markup: str, *, allow_external: bool = False) -> str:
    """A fragment of data-derived HTML through the ``nh3`` allow-list (see module docstring).

    Examples
    --------
    >>> sanitize_html('<b onclick="x()">b</b><script>alert(1)</script><a href="javascript:x">l</a>')
    '<b>b</b><a rel="noopener noreferrer">l</a>'
    """
    import nh3

    attrs = {t: set(FRAGMENT_ATTRS["*"]) | FRAGMENT_ATTRS.get(t, set()) for t in FRAGMENT_TAGS}
    return nh3.clean(
        markup,
        tags=FRAGMENT_TAGS,
        clean_content_tags=DROP_WITH_CONTENT | {"style", "svg"},
        attributes=attrs,
        attribute_filter=_nh3_filter(allow_external),
        url_schemes={"http", "https", "mailto", "data"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
