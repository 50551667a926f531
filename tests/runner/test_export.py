"""report.html from an executed notebook: escaping, figures, contents, caveats, provenance.

The notebook here carries hand-made outputs (no kernel needed); the end-to-end runs in
``test_run.py`` export real kernels' outputs.
"""

from __future__ import annotations

import base64
import io
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output  # noqa: E402

from workbench.runner.export import export_report, key_findings, sanitize_html  # noqa: E402


def _png() -> str:
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [1, 0])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.fixture
def executed(tmp_path):
    frame = pd.DataFrame(
        {"segment": ["<script>alert('x')</script>", "plain"], "hr": [1.234567891234, 0.5]}
    )
    nb = new_notebook()
    params = new_code_cell("alpha: float = 0.05  # level")
    params.metadata["tags"] = ["parameters"]
    figure = new_code_cell("# Figure: Churn by <segment> & plan\nplot()")
    figure.outputs = [
        new_output("display_data", data={"image/png": _png(), "text/plain": "<Figure>"})
    ]
    table = new_code_cell("frame")
    table.outputs = [
        new_output(
            "execute_result",
            data={"text/html": frame.to_html(), "text/plain": "frame"},
            execution_count=3,
        ),
        new_output("stream", name="stderr", text="/x/y.py:1: SeparationWarning: noise\n"),
        new_output("display_data", data={"application/javascript": "alert(3)"}),
        new_output(
            "display_data",
            data={"text/html": "<b onclick='alert(4)'>bold</b><script>alert(5)</script>"},
        ),
    ]
    scalar = new_code_cell("x")
    scalar.outputs = [
        new_output("execute_result", data={"text/plain": "0.123456789012345"}, execution_count=4)
    ]
    nb.cells = [
        new_markdown_cell("# Churn <overview>"),
        params,
        new_markdown_cell("## Hazard ratios"),
        table,
        new_markdown_cell("## Figures & more"),
        figure,
        scalar,
    ]
    path = tmp_path / "notebook.ipynb"
    nbformat.write(nb, str(path))
    manifest = {
        "notebook": "notebooks/01-x.ipynb",
        "run_name": "r1",
        "status": "ok",
        "parameters": {"alpha": 0.1},
        "parameters_given": {"alpha": 0.1},
        "started": "2026-01-01T00:00:00+00:00",
        "duration_s": 3.2,
        "dataset": {
            "name": "synthetic",
            "n": 500,
            "events": 100,
            "fingerprint": "abc123def4567890",
            "source": "s",
        },
        "git": {"commit": "deadbeef", "dirty": False},
        "packages": {"python": "3.11"},
        "kernel": "python3",
        "warnings": [
            {"category": "SeparationWarning", "message": "group <b>x</b> separated", "count": 2}
        ],
    }
    results = {"key_findings": ["Churn is <script>alert(6)</script> lower for plan B."], "n": 500}
    return path, manifest, results


def test_report_sections_and_escaping(executed, tmp_path):
    path, manifest, results = executed
    out = export_report(path, tmp_path / "report.html", manifest=manifest, results=results)
    text = out.read_text()
    assert "<script" not in text.lower() and "onclick" not in text and "alert(3)" not in text
    assert "Churn is &lt;script&gt;alert(6)&lt;/script&gt; lower" in text
    assert (
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in text
        or "&lt;script&gt;alert('x')&lt;/script&gt;" in text
    )
    assert "<title>Churn &lt;overview&gt;</title>" in text
    assert text.count("<h1") == 1  # the notebook's own title line is not repeated
    # key findings come first, then contents from the ## headings, caveats and provenance last
    kf, toc, body, cav, prov = (
        text.index(s)
        for s in (
            'id="key-findings"',
            'id="contents"',
            'id="Hazard-ratios"',
            'id="caveats"',
            'id="provenance"',
        )
    )
    assert kf < toc < body < cav < prov
    toc_html = text[toc : text.index("</nav>", toc)]
    assert re.findall(r'href="#([^"]+)"', toc_html) == [
        "Hazard-ratios",
        "Figures-&amp;-more",
    ] or re.findall(r'href="#([^"]+)"', toc_html) == ["Hazard-ratios", "Figures-&-more"]
    # figure with caption, image embedded
    assert re.search(
        r'<figure class="wb-figure"[^>]*><img alt="Churn by &lt;segment&gt; &amp; plan" '
        r'src="data:image/png;base64,',
        text,
    )
    assert (
        "<figcaption><strong>Figure 1.</strong> Churn by &lt;segment&gt; &amp; plan</figcaption>"
        in text
    )
    # no raw float reprs, no stderr noise
    assert "1.234567891234" not in text and "0.123456789012345" not in text
    assert ">1.235<" in text and "0.1235" in text
    assert "SeparationWarning: noise" not in text
    # caveats and provenance
    assert "<strong>An outcome is perfectly predicted in some group</strong>" in text
    assert "group &lt;b&gt;x&lt;/b&gt; separated (2 times)" in text
    assert "Firth" in text  # the remedy, in words
    assert "abc123def4567890" in text and "deadbeef" in text and "alpha = 0.1" in text
    # code hidden by default, shown on request
    assert "plot()" not in text
    shown = export_report(
        path, tmp_path / "code.html", manifest=manifest, results=results, show_code=True
    )
    assert "plot" in shown.read_text()
    # self-contained: nothing fetched from elsewhere
    assert not re.search(r'(src|href)="(https?:)?//', text)


def test_failed_run_shows_failing_cell_and_error(executed, tmp_path):
    path, manifest, _ = executed
    manifest = dict(
        manifest,
        status="failed",
        error={
            "cell_index": 3,
            "source": "fit(<data>)",
            "ename": "ModelError",
            "evalue": "no events in <group>",
        },
    )
    text = export_report(path, tmp_path / "r.html", manifest=manifest, results={}).read_text()
    assert 'id="failure"' in text and "Run failed" in text
    assert "fit(&lt;data&gt;)" in text and "no events in &lt;group&gt;" in text
    assert "No results were recorded by this run." in text


def test_key_findings_fallback_from_scalars():
    assert key_findings({"key_findings": ["a", "b"], "n": 1}) == ["a", "b"]
    assert key_findings(
        {
            "median_tenure": 23.456789,
            "n_customers": 20000,
            "table": [{"a": 1}],
            "segment": "consumer",
        }
    ) == ["Median tenure (months): 23.5", "Customers: 20,000", "Segment: consumer"]
    assert key_findings({}) == []


def test_sanitize_html():
    assert sanitize_html("<td>0.123456789</td><script>alert(1)</script><b onclick='x()'>b</b>") == (
        "<td>0.1235</td><b>b</b>"
    )
    assert (
        sanitize_html('<a href="javascript:alert(1)">x</a><a href="#ok">y</a>')
        == '<a>x</a><a href="#ok">y</a>'
    )
    assert (
        sanitize_html("<iframe src='x'><p>in</p></iframe><p>&lt;kept&gt; 1.5</p>")
        == "<p>&lt;kept&gt; 1.5</p>"
    )
    assert sanitize_html("<td>12</td><td>a 0.1234567</td>") == "<td>12</td><td>a 0.1234567</td>"


def test_customer_ids_in_tables_are_pseudonymised(tmp_path, monkeypatch):
    from workbench.privacy import pseudonym

    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", "test-key")
    rows = pd.DataFrame({"customerID": ["7590-VHVEG", "5575-GNVDE"], "tenure": [1, 34]})
    assert sanitize_html(rows.to_html(), ("customerid",)).count("C-") == 2
    nb = new_notebook()
    cell = new_code_cell("rows")
    cell.outputs = [
        new_output("execute_result", data={"text/html": rows.to_html()}, execution_count=1),
        new_output("display_data", data={"text/html": rows.set_index("customerID").to_html()}),
    ]
    nb.cells = [cell]
    path = tmp_path / "notebook.ipynb"
    nbformat.write(nb, str(path))
    manifest = {"status": "ok", "dataset": {"name": "telco", "id_col": "customerID"}}
    text = export_report(path, tmp_path / "r.html", manifest=manifest, results={}).read_text()
    assert "7590-VHVEG" not in text and "5575-GNVDE" not in text
    assert text.count(pseudonym("7590-VHVEG")) == 2 and ">34<" in text
    assert "4 customer ids shown in tables were replaced by pseudonyms" in text


# ---------------------------------------------------------------------------------- issue 13
def _blank_png() -> str:
    fig = plt.figure(figsize=(2, 1.5))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _notebook(tmp_path, cells):
    nb = new_notebook()
    nb.cells = cells
    path = tmp_path / "notebook.ipynb"
    nbformat.write(nb, str(path))
    return path


def _cell(source, *outputs):
    c = new_code_cell(source)
    c.outputs = list(outputs)
    return c


def test_summary_ranks_at_most_eight_findings_with_their_caveats(tmp_path):
    findings = [{"text": f"detail {i}", "importance": 3} for i in range(9)] + [
        {
            "text": "Offer A gained 3.2 months (95% CI 1.0 to 5.4).",
            "importance": 1,
            "caveats": ["not randomised: an association after weighting, not an effect"],
        },
        "old string finding",
    ]
    findings.append({"text": "Linked finding.", "importance": 3, "section": "Cox model"})
    findings.append({"text": "Unlinked finding.", "importance": 3, "section": "Nowhere"})
    path = _notebook(tmp_path, [new_markdown_cell("# T"), new_markdown_cell("## Cox model")])
    manifest = {
        "status": "ok",
        "batch": "default",
        "parameters": {"seed": 3},
        "dataset": {
            "name": "synthetic",
            "n": 1200,
            "period": {"start": "2020-01-04", "end": "2025-12-30", "observed_until": "2025-12-31"},
        },
        "warnings": [{"category": "ProportionalHazardsWarning", "message": "m", "count": 1}] * 3,
    }
    text = export_report(
        path, tmp_path / "r.html", manifest=manifest, results={"key_findings": findings}
    ).read_text()
    box = text[
        text.index('id="key-findings"') : text.index("</section>", text.index('id="key-findings"'))
    ]
    items = re.findall(r'<li class="wb-finding[^"]*">(.*?)</li>', box)
    assert len(items) == 8
    assert items[0].startswith("Offer A gained") and "not randomised" in items[0]
    assert items[1] == "old string finding"  # importance 2 before the details, order kept
    assert "8 most important of 13 findings" in box
    assert "<li>A hazard ratio changes with tenure</li>" in box  # run caveats named in the box
    every = text[text.index('id="all-findings"') :]
    assert all(f"detail {i}" in every for i in range(9))
    assert 'Linked finding. <a class="wb-see" href="#Cox-model">(see Cox model)</a>' in every
    assert "Unlinked finding.</li>" in every
    # banner: simulated data with its seed and the period; navigation to index and batch
    assert "Simulated customers (seed 3, 1,200 customers), not real data" in text
    assert "customers joining Jan 2020 to Dec 2025, observed until Dec 2025" in text
    assert 'href="../../index.html"' in text and 'href="../../default/summary.html"' in text
    # one caveat raised three times: grouped once, in words with the remedy
    cav = text[text.index('id="caveats"') :]
    assert cav.count("A hazard ratio changes with tenure") == 1 and "(3 times)" in cav


def test_debug_output_is_dropped(tmp_path):
    findings = ["In 2025Q4, 4.9% of the 11,174 customers churned.", "Median tenure is 41 months."]
    marker = new_markdown_cell(
        '<span style="color:red">An Exception was encountered at <a href="#x">In [11]</a></span>'
    )
    marker.metadata["tags"] = ["papermill-error-cell-tag"]
    cells = [
        marker,
        new_markdown_cell("## Effects"),
        _cell(
            "ax = plot()",
            new_output(
                "execute_result", data={"text/plain": "<Axes: xlabel='tenure'>"}, execution_count=11
            ),
        ),
        _cell(
            "study",
            new_output(
                "execute_result",
                data={"text/plain": "<workbench.effects.Study object at 0x7f>"},
                execution_count=12,
            ),
        ),
        _cell(
            "# Figure: Empty view\nplot()",
            new_output(
                "display_data",
                data={"image/png": _blank_png(), "text/plain": "<Figure size 200x150 with 0 Axes>"},
            ),
        ),
        _cell(
            "# Figure: Real view\nplot()", new_output("display_data", data={"image/png": _png()})
        ),
        _cell(
            "record('key_findings', f)",
            new_output("execute_result", data={"text/plain": repr(findings)}, execution_count=13),
        ),
        _cell(
            "boom()",
            new_output(
                "error",
                ename="ModelError",
                evalue="no <events>",
                traceback=["\x1b[31mTraceback\x1b[0m line"],
            ),
        ),
        new_markdown_cell("## Key findings"),
    ]
    path = _notebook(tmp_path, cells)
    text = export_report(
        path, tmp_path / "r.html", manifest={"status": "failed"}, results={"key_findings": findings}
    ).read_text()
    body = text[text.index('id="wb-notebook"') :]
    for bad in ("&lt;Axes", "&lt;workbench.", "In [11]", "Out[", "[&#39;In 2025Q4", "\x1b[31m"):
        assert bad not in body, bad
    assert "No figure: \u201cEmpty view\u201d has nothing to draw" in body
    assert "<strong>Figure 1.</strong> Real view" in body  # the blank one takes no number
    assert "<strong>ModelError</strong>: no &lt;events&gt;" in body
    assert 'id="Key-findings"' not in body  # the notebook's own findings heading gives way
    assert "stopped in the section \u201cEffects\u201d" in text


def test_tables_go_through_the_formatting_layer(tmp_path):
    cox = pd.DataFrame(
        {
            "term": ["contract[two_year]", "monthly_charge"],
            "estimate": [-0.632, 0.00912],
            "hazard_ratio": [0.532, 1.00916],
            "ci_lower": [0.501, 1.0081],
            "ci_upper": [0.565, 1.0102],
            "p_value": [4.721e-88, 0.0004],
            "n": [4893.0, 12.0],
        }
    )
    long = pd.DataFrame({"month": range(40), "churn_rate": [0.049] * 40})
    wide = pd.DataFrame({f"very_long_column_name_{i}": [1.5] for i in range(30)})
    cells = [
        new_markdown_cell("## Cox model"),
        _cell(
            "cox",
            new_output("execute_result", data={"text/html": cox.to_html()}, execution_count=1),
        ),
        _cell(
            "# Table: Churn per month\nlong",
            new_output("execute_result", data={"text/html": long.to_html()}, execution_count=2),
        ),
        _cell(
            "wide",
            new_output("execute_result", data={"text/html": wide.to_html()}, execution_count=3),
        ),
    ]
    path = _notebook(tmp_path, cells)
    text = export_report(
        path,
        tmp_path / "r.html",
        manifest={"status": "ok", "parameters": {"alpha": 0.1}},
        results={},
    ).read_text()
    body = text[text.index('id="wb-notebook"') :]
    assert "<th></th>" not in body and "<th>0</th>" not in body  # no pandas index column
    assert (
        "<strong>Table 1.</strong> Cox model" in body
        and "<strong>Table 2.</strong> Churn per month" in body
    )
    assert "contract: two year" in body and 'title="hazard_ratio"' in body
    assert "0.532 (0.501 to 0.565)" in body and "Hazard ratio (90% CI)" in body  # HR scale, not log
    assert "&lt;0.001" in body and "4.721e-88" not in body
    assert ">4,893<" in body and "4893.0" not in body
    assert "4.9%" in body and "Show all 40 rows" in body
    assert body.count('class="wb-table-wrap"') >= 4  # every table scrolls in its own box


@pytest.mark.parametrize(
    ("manifest", "kind", "text"),
    [
        (
            {"dataset": {"name": "synthetic", "n": 3000}, "parameters": {"seed": 7}},
            "simulated",
            "Simulated customers (seed 7, 3,000 customers), not real data",
        ),
        ({"dataset": {"name": "telco", "n": 7043}}, "public", "IBM Telco sample data"),
        ({"dataset": {"name": "cdnow", "n": 6919, "events": None}}, "public", "CDNOW purchase"),
        (
            {"dataset": {"name": "custom", "n": 12, "source": "/data/in/my_customers.csv"}},
            "file",
            "Your data: my_customers.csv (12 customers)",
        ),
        ({}, "unknown", "Data as loaded by the notebook"),
    ],
)
def test_data_source_in_words(manifest, kind, text):
    from workbench.runner.summary import data_source

    src = data_source(manifest)
    assert src["kind"] == kind and src["text"].startswith(text)


def test_data_period_from_start_dates_and_tenure():
    from workbench.data import load_dataset
    from workbench.runner.manifest import data_period

    ds = load_dataset("synthetic", n_customers=500, seed=1)
    period = data_period(ds)
    start = pd.to_datetime(ds.frame[ds.spec.start_date])
    assert period["start"] == start.min().date().isoformat()
    assert period["end"] == start.max().date().isoformat()
    assert period["observed_until"] >= period["end"]
