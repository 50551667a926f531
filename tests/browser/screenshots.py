"""Screenshots of the top of every report, as a manager sees them at 1280 px: ``make screenshots``.

Usage::

    python tests/browser/screenshots.py REPORTS_ROOT [OUT_DIR]

Opens ``REPORTS_ROOT/index.html`` and every ``REPORTS_ROOT/<notebook>/<run>/report.html`` in
headless Chromium (``/usr/bin/chromium`` through Playwright) at 1280 x 1000 px and writes one PNG
per page to ``OUT_DIR`` (default ``docs/screenshots``): ``index.png`` and ``<notebook>.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
WIDTH, HEIGHT = 1280, 1000


def shoot(root: Path, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    pages = [(root / "index.html", out / "index.png")]
    for report in sorted(root.glob("*/*/report.html")):
        pages.append((report, out / f"{report.parent.parent.name}.png"))
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            for src, dst in pages:
                if not src.is_file():
                    continue
                page.goto(src.resolve().as_uri(), wait_until="load")
                page.screenshot(path=str(dst), full_page=False)
                written.append(dst)
        finally:
            browser.close()
    return written


if __name__ == "__main__":
    root = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("docs/screenshots")
    for path in shoot(root, out):
        print(path)
