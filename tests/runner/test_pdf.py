"""PDF export: ``workbench run ... --pdf`` prints the report with headless Chromium; the first page
shows the summary (read back with poppler's ``pdftotext`` / ``pdftoppm``)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from workbench.cli import main
from workbench.exceptions import RunError
from workbench.runner.pdf import export_pdf

pytestmark = pytest.mark.browser


def _poppler():
    if not (shutil.which("pdftotext") and shutil.which("pdftoppm")):
        pytest.fail("poppler-utils is missing (pdftotext, pdftoppm): apt-get install poppler-utils")


def test_run_with_pdf_first_page_shows_the_summary(nbdir, reports, capsys, tmp_path):
    _poppler()
    assert main(["run", str(nbdir / "rich.ipynb"), "--name", "p1", "--pdf"]) == 0
    pdf = reports / "rich" / "p1" / "report.pdf"
    assert f"pdf: {pdf}" in capsys.readouterr().out and pdf.stat().st_size > 5_000
    page1 = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Key findings" in page1 and "Data:" in page1
    assert "All reports" not in page1  # navigation is screen-only (print stylesheet)
    subprocess.run(
        ["pdftoppm", "-f", "1", "-l", "1", "-r", "40", "-png", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    from PIL import Image

    png = next(tmp_path.glob("p*.png"))
    assert Image.open(png).convert("L").getextrema()[0] < 100  # something dark printed on page 1


def test_missing_report_is_refused_with_the_fix(tmp_path):
    with pytest.raises(RunError, match="does not exist; run the notebook first"):
        export_pdf(tmp_path / "nope" / "report.html")
