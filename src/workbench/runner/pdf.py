"""``report.pdf``: the same HTML report printed by headless Chromium (its print stylesheet:
A4, navigation and contents hidden, boxes and figures not split across pages).

Chromium is Debian's ``/usr/bin/chromium`` (``WORKBENCH_CHROMIUM`` overrides); the page is opened
over ``file://`` and printed with ``--print-to-pdf`` without the browser's header and footer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from ..exceptions import RunError

CHROMIUM_ENV = "WORKBENCH_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-pdf-header-footer",
    "--run-all-compositor-stages-before-draw",
)


def chromium_path() -> str:
    """The Chromium binary: ``$WORKBENCH_CHROMIUM``, ``/usr/bin/chromium``, or ``chromium`` on PATH.

    Raises
    ------
    RunError
        When none is installed (the message says how to install it).
    """
    for cand in (os.environ.get(CHROMIUM_ENV), DEFAULT_CHROMIUM, shutil.which("chromium")):
        if cand and Path(cand).is_file():
            return str(cand)
    raise RunError(
        "PDF export needs Chromium: none found at $WORKBENCH_CHROMIUM or /usr/bin/chromium. "
        "Install it (Debian: `apt-get install chromium`) or set WORKBENCH_CHROMIUM to its path."
    )


def export_pdf(
    html_path: str | Path, pdf_path: str | Path | None = None, *, timeout: float = 120.0
) -> Path:
    """Print ``html_path`` (a report) to ``pdf_path`` (default: beside it, ``report.pdf``).

    Raises
    ------
    RunError
        When the report is missing or Chromium fails or writes no PDF.
    """
    src = Path(html_path).resolve()
    if not src.is_file():
        raise RunError(
            f"cannot print {src} to PDF: the report does not exist; run the notebook first."
        )
    out = Path(pdf_path) if pdf_path is not None else src.with_suffix(".pdf")
    out = out.resolve()
    tmp = out.with_name(out.name + ".part")
    tmp.unlink(missing_ok=True)
    cmd = [chromium_path(), *FLAGS, f"--print-to-pdf={tmp}", src.as_uri()]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise RunError(f"Chromium did not print {src.name} to PDF within {timeout:g} s.") from e
    if not tmp.is_file() or tmp.stat().st_size == 0:
        tail = (proc.stderr or proc.stdout or "")[-600:]
        raise RunError(f"Chromium wrote no PDF for {src} (exit {proc.returncode}): {tail}")
    tmp.replace(out)
    return out
