"""The strict sanitiser in a real browser: hostile data-derived outputs (SVG ``<animate>`` /
``<set>`` setting ``href`` to ``javascript:``, ``javascript:`` in every attribute, external images,
CSS ``url()``, ``@import`` and fonts) are neutralised in the report, the index and the batch
summary. Checked in headless Chromium via Playwright: every link and SVG text is clicked, no
script runs (``window.__pwned`` stays unset), no request leaves ``file://`` / ``data:``, and no
attribute in the DOM holds a ``javascript:`` URL.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.runner.batch import run_batch
from workbench.runner.sanitize import sanitize_html, sanitize_page

pytestmark = [pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
NB = Path(__file__).resolve().parents[1] / "runner" / "notebooks" / "xss.ipynb"
PAYLOADS = Path(__file__).resolve().parents[1] / "fuzz" / "xss_payloads.html"
HOSTILE_LABEL = "<img src=http://127.0.0.1:9/label.png onerror=window.__pwned='label'>"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)")
    out = tmp_path_factory.mktemp("reports")
    batch = out.parent / "xss.yml"
    batch.write_text(
        f"name: hostile\nnotebooks: [{NB}]\nruns:\n  - {{label: {json.dumps(HOSTILE_LABEL)}}}\n"
        "compare: [label]\ntimeout: 120\n"
    )
    result = run_batch(batch, out=out, progress=False)
    assert result.ok, [o.manifest.get("error") for o in result.outcomes]
    return out, result


def _probe(page, path: Path) -> dict:
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(300)  # let SVG animations run their first frame
    # click everything a payload could hide behind (links to other report files are ours)
    sel = "text, a:not([href]), a[href^='#'], a[href^='java'], summary, button, [id]"
    for i in range(page.locator(sel).count()):
        try:
            page.locator(sel).nth(i).click(timeout=500, force=True, no_wait_after=True)
        except Exception:  # hidden, detached or covered: nothing to run
            continue
        if page.url.split("#")[0] != path.as_uri():
            page.goto(path.as_uri(), wait_until="load")
    found = page.evaluate(
        """() => ({
        pwned: window.__pwned || null,
        scripts: document.querySelectorAll('script, iframe, object, embed, animate, set, form').length,
        jsAttrs: Array.from(document.querySelectorAll('*')).flatMap(e => Array.from(e.attributes)
            .filter(a => /^\\s*(javascript|vbscript|data:text\\/html)/i.test(a.value.replace(/[\\s\\x00-\\x1f]/g, '')))
            .map(a => e.tagName + ' ' + a.name + '=' + a.value)),
        onAttrs: Array.from(document.querySelectorAll('*')).flatMap(e => Array.from(e.attributes)
            .filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name)),
    })"""
    )
    found["external"] = [u for u in requests if not u.startswith(("file:", "data:", "about:"))]
    found["errors"] = errors
    return found


def test_hostile_outputs_neutralised_in_report_index_and_summary(published):
    from playwright.sync_api import sync_playwright

    out, result = published
    report = result.outcomes[0].report
    pages = [report, out / "index.html", out / "hostile" / "summary.html"]
    seen = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            for path in pages:
                page = browser.new_page()
                seen[path.name] = _probe(page, path)
                page.close()
        finally:
            browser.close()
    for name, f in seen.items():
        assert f["pwned"] is None, (name, f)
        assert f["scripts"] == 0 and not f["jsAttrs"] and not f["onAttrs"], (name, f)
        assert not f["external"], (name, f["external"])
    text = report.read_text()
    assert "animate link" in text and "tracker" in text  # the harmless content stays


def test_payloads_also_neutralised_without_a_browser():
    page = sanitize_page(PAYLOADS.read_text())
    low = page.lower()
    for bad in (
        "<script",
        "<iframe",
        "<animate",
        "<set",
        "<form",
        "<object",
        "<embed",
        "onerror=",
        "ontoggle=",
    ):
        assert bad not in low, bad
    assert "127.0.0.1:9" not in page
    assert "javascript:" not in low and "&#106;avascript" not in low
    kept = sanitize_page(PAYLOADS.read_text(), allow_external=True)
    assert 'src="http://127.0.0.1:9/track.png"' in kept and "javascript:" not in kept.lower()
    frag = sanitize_html(PAYLOADS.read_text())
    assert "<svg" not in frag and "127.0.0.1:9" not in frag and "javascript" not in frag.lower()
