"""Published reports in a real browser: headless Debian Chromium driven by Playwright.

A batch over the real analysis notebooks (small data: ``n_customers: 3000``; a notebook that does
not exist yet in this session is left out) plus the fixture notebook ``rich`` (a figure, a table
holding ``<script>``, a caveat) is run into a tmp reports folder. Then ``index.html``, the batch
summary and every report are opened over ``file://`` and checked: no console errors, every image
loaded (``naturalWidth > 0``), key-findings section and tables present, every link resolves (a
file that exists, or an element id in the page), no script injected.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest

from workbench.config import project_root
from workbench.runner.batch import run_batch

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NOTEBOOKS = [
    "01-retention-overview",
    "02-tenure-survival",
    "03-satisfaction-switching-costs",
    "04-intervention-effects",
    "05-customer-value",
]
FIXTURE = Path(__file__).resolve().parents[1] / "runner" / "notebooks" / "rich.ipynb"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)")
    out = tmp_path_factory.mktemp("reports")
    root = project_root() / "notebooks"
    present = [n for n in NOTEBOOKS if (root / f"{n}.ipynb").is_file()]
    entries = "".join(
        f"  - path: {root / n}.ipynb\n    parameters: {{n_customers: 3000}}\n" for n in present
    )
    batch = out.parent / "browser.yml"
    batch.write_text(f"name: browser\nnotebooks:\n{entries}  - {FIXTURE}\ntimeout: 600\n")
    result = run_batch(batch, workers=2, out=out, progress=False)
    return out, result, present


def _open(page, path: Path) -> dict:
    errors: list[str] = []
    page.on(
        "console",
        lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.goto(path.as_uri(), wait_until="load")
    info = page.evaluate("""() => ({
        images: Array.from(document.images).map(i => ({src: i.src.slice(0, 60), ok: i.complete && i.naturalWidth > 0})),
        links: Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href')),
        ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id),
        keyFindings: document.querySelectorAll('#key-findings li').length,
        hasKeyFindings: !!document.getElementById('key-findings'),
        tables: document.querySelectorAll('table').length,
        notebookTables: document.querySelectorAll('#wb-notebook table').length,
        figures: document.querySelectorAll('figure figcaption').length,
        scripts: document.querySelectorAll('script').length,
        text: document.body.innerText,
    })""")
    info["errors"] = errors
    return info


def _check_links(path: Path, info: dict) -> list[str]:
    bad = []
    for href in info["links"]:
        parsed = urllib.parse.urlparse(href)
        if parsed.scheme or parsed.netloc:
            bad.append(f"external link {href}")
            continue
        if not parsed.path:
            # browsers try the fragment as written, then percent-decoded (HTML: indicated element)
            if not {parsed.fragment, urllib.parse.unquote(parsed.fragment)} & set(info["ids"]):
                bad.append(f"anchor {href} has no target")
            continue
        target = (path.parent / urllib.parse.unquote(parsed.path)).resolve()
        if not target.is_file():
            bad.append(f"{href} -> {target} does not exist")
    return bad


def test_reports_render_in_chromium(published):
    from playwright.sync_api import sync_playwright

    out, result, present = published
    pages = [out / "index.html", out / "browser" / "summary.html"] + [
        o.report for o in result.outcomes
    ]
    assert len(result.outcomes) == len(present) + 1
    problems: dict[str, list[str]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            seen = {}
            for path in pages:
                page = browser.new_page()
                info = _open(page, path)
                page.close()
                seen[path] = info
                issues = list(info["errors"]) + _check_links(path, info)
                issues += [f"image not loaded: {i['src']}" for i in info["images"] if not i["ok"]]
                if info["scripts"]:
                    issues.append(f"{info['scripts']} script elements")
                if info["tables"] == 0:
                    issues.append("no table")
                if path.name == "report.html" and not info["hasKeyFindings"]:
                    issues.append("no key findings section")
                if issues:
                    problems[str(path.relative_to(out))] = issues
        finally:
            browser.close()
    assert not problems, json.dumps(problems, indent=1)

    # every run is on the index and the summary; the fixture's <script> category shows as text
    index_text = seen[out / "index.html"]["text"]
    for o in result.outcomes:
        assert Path(o.notebook).stem in index_text
    rich = next(o for o in result.outcomes if Path(o.notebook).stem == "rich")
    info = seen[rich.report]
    assert (
        "<script>alert(1)</script>" in info["text"]
        and info["figures"] == 1
        and info["keyFindings"] == 2
    )
    assert info["notebookTables"] >= 1
    for o in result.outcomes:
        if o.ok:  # an analysis that ran shows its findings and at least one table of results
            assert seen[o.report]["keyFindings"] >= 1, o.notebook
            assert seen[o.report]["notebookTables"] >= 1, o.notebook
