"""Published reports in a real browser: headless Debian Chromium driven by Playwright, at 1280 px.

``batches/default.yml`` (every analysis notebook on the built-in data, as ``make reports`` runs it)
and ``batches/telco.yml`` are run into a tmp reports folder, plus the fixture notebook ``rich`` (a
figure, a table holding ``<script>``, a caveat). Then ``index.html``, the batch summaries and every
report are opened over ``file://`` and checked as a manager would read them:

* no console errors, no script elements, every link resolves (a file, or an id in the page);
* no debug text: ``<Axes``, ``In [``, ``Out[``, ``<workbench.``, a Python list of findings;
* no pandas index column (a first column 0, 1, 2, ... under an empty header);
* every ``<img>`` loaded and not blank (pixel variance above :data:`BLANK_VARIANCE`);
* no table wider than the window unless it sits in its own scroll box, and no page-wide scrolling;
* a key-findings box with at most eight items, a data-source banner, a link back to the index.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import Path

import pytest

from workbench.config import project_root, telco_dir
from workbench.runner.batch import run_batch
from workbench.runner.outputs import BLANK_VARIANCE

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
VIEWPORT = {"width": 1280, "height": 900}
FIXTURE = Path(__file__).resolve().parents[1] / "runner" / "notebooks" / "rich.ipynb"
DEBUG_TEXT = re.compile(r"<Axes|In \[\s*\d*\s*\]|Out\[\s*\d*\s*\]|<workbench\.|Finding\(text=")
FINDINGS_LIST = re.compile(r"\[\s*['\"][A-Z][^'\"]{20,}['\"]\s*,")

PAGE_INFO = """(threshold) => {
    const vw = document.documentElement.clientWidth;
    const scrolls = (el) => {
        for (let p = el.parentElement; p; p = p.parentElement) {
            const s = getComputedStyle(p).overflowX;
            if ((s === 'auto' || s === 'scroll') && p.getBoundingClientRect().right <= vw + 1) return true;
        }
        return false;
    };
    const variance = (img) => {
        try {
            const c = document.createElement('canvas');
            const w = img.naturalWidth, h = img.naturalHeight;
            c.width = w; c.height = h;
            const g = c.getContext('2d');
            g.drawImage(img, 0, 0, w, h);
            const d = g.getImageData(0, 0, w, h).data;
            let s = 0, s2 = 0, n = 0;
            for (let i = 0; i < d.length; i += 4) {
                const v = (d[i] + d[i + 1] + d[i + 2]) / (3 * 255);
                s += v; s2 += v * v; n += 1;
            }
            return s2 / n - (s / n) * (s / n);
        } catch (e) { return -1; }
    };
    const indexColumns = Array.from(document.querySelectorAll('#wb-notebook table')).filter(t => {
        const head = t.querySelector('thead tr');
        const rows = Array.from(t.querySelectorAll('tbody tr'));
        if (!head || rows.length < 2 || head.children[0].textContent.trim() !== '') return false;
        return rows.every((r, i) => r.children[0] && r.children[0].textContent.trim() === String(i));
    }).length;
    return {
        images: Array.from(document.images).map(i => ({
            src: i.src.slice(0, 60), ok: i.complete && i.naturalWidth > 0, variance: variance(i)})),
        links: Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href')),
        ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id),
        keyFindings: document.querySelectorAll('#key-findings > ol > li').length,
        hasKeyFindings: !!document.getElementById('key-findings'),
        banner: (document.getElementById('data-source') || {}).innerText || '',
        tables: document.querySelectorAll('table').length,
        notebookTables: document.querySelectorAll('#wb-notebook table').length,
        wideTables: Array.from(document.querySelectorAll('table')).filter(
            t => t.getBoundingClientRect().right > vw + 1 && !scrolls(t)).length,
        pageScrollsSideways: document.documentElement.scrollWidth > vw + 1,
        indexColumns: indexColumns,
        figures: document.querySelectorAll('figure figcaption').length,
        scripts: document.querySelectorAll('script').length,
        text: document.body.innerText,
    };
}"""


def _batch_file(tmp: Path, name: str, notebooks: list[Path]) -> Path:
    path = tmp / f"{name}.yml"
    path.write_text(
        f"name: {name}\nnotebooks:\n" + "".join(f"  - {p}\n" for p in notebooks) + "timeout: 900\n"
    )
    return path


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)")
    out = tmp_path_factory.mktemp("reports")
    root = project_root()
    outcomes = []
    outcomes += run_batch(
        root / "batches" / "default.yml", workers=2, out=out, progress=False
    ).outcomes
    if (telco_dir() / "Telco_customer_churn_status.csv").is_file():
        outcomes += run_batch(
            root / "batches" / "telco.yml", workers=2, out=out, progress=False
        ).outcomes
    fixture = _batch_file(out.parent, "fixture", [FIXTURE])
    outcomes += run_batch(fixture, workers=1, out=out, progress=False).outcomes
    return out, outcomes


def _open(page, path: Path) -> dict:
    errors: list[str] = []
    page.on(
        "console",
        lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.goto(path.as_uri(), wait_until="load")
    info = page.evaluate(PAGE_INFO, BLANK_VARIANCE)
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


def _report_problems(info: dict) -> list[str]:
    issues = []
    body = info["text"]
    for m in DEBUG_TEXT.finditer(body):
        issues.append(
            f"debug text {m.group(0)!r}: ...{body[max(0, m.start() - 60) : m.end() + 60]!r}"
        )
    for m in FINDINGS_LIST.finditer(body):
        issues.append(f"python list of findings: {body[m.start() : m.start() + 80]!r}")
    if info["indexColumns"]:
        issues.append(f"{info['indexColumns']} table(s) with a pandas index column")
    if not info["hasKeyFindings"]:
        issues.append("no key findings section")
    if info["keyFindings"] > 8:
        issues.append(f"{info['keyFindings']} items in the key-findings box (at most 8)")
    if not info["banner"].startswith("Data:"):
        issues.append("no data-source banner")
    if not any(h.endswith("index.html") for h in info["links"]):
        issues.append("no link back to the index")
    return issues


def test_reports_render_in_chromium(published):
    from playwright.sync_api import sync_playwright

    out, outcomes = published
    summaries = sorted(out.glob("*/summary.html"))
    pages = [out / "index.html", *summaries] + [o.report for o in outcomes]
    problems: dict[str, list[str]] = {}
    seen = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            for path in pages:
                page = browser.new_page(viewport=VIEWPORT)
                info = _open(page, path)
                page.close()
                seen[path] = info
                issues = list(info["errors"]) + _check_links(path, info)
                for img in info["images"]:
                    if not img["ok"]:
                        issues.append(f"image not loaded: {img['src']}")
                    elif img["variance"] < BLANK_VARIANCE:
                        issues.append(f"blank image (variance {img['variance']:.4f}): {img['src']}")
                if info["scripts"]:
                    issues.append(f"{info['scripts']} script elements")
                if info["wideTables"]:
                    issues.append(
                        f"{info['wideTables']} table(s) wider than the window, no scroll box"
                    )
                if info["pageScrollsSideways"]:
                    issues.append("the page scrolls sideways at 1280 px")
                if info["tables"] == 0:
                    issues.append("no table")
                if path.name == "report.html":
                    issues += _report_problems(info)
                if issues:
                    problems[str(path.relative_to(out))] = issues
        finally:
            browser.close()
    assert not problems, json.dumps(problems, indent=1)

    # every run is on the index; the fixture's <script> category shows as text
    index_text = seen[out / "index.html"]["text"]
    assert f"{len(outcomes)} runs" in index_text
    rich = next(o for o in outcomes if Path(o.notebook).stem == "rich")
    info = seen[rich.report]
    assert "<script>alert(1)</script>" in info["text"] and info["figures"] == 1
    assert info["keyFindings"] == 2 and info["notebookTables"] >= 1
    for o in outcomes:
        assert o.ok, (o.notebook, o.manifest.get("error"))
        # an analysis that ran shows its findings and at least one table of results
        assert seen[o.report]["keyFindings"] >= 1, o.notebook
        assert seen[o.report]["notebookTables"] >= 1, o.notebook
        assert seen[o.report]["banner"].startswith("Data:"), o.notebook
    simulated = [
        o for o in outcomes if (o.manifest.get("dataset") or {}).get("name") == "synthetic"
    ]
    assert simulated and all("not real data" in seen[o.report]["banner"] for o in simulated)
