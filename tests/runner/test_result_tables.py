"""A result's table reads the same in Jupyter and in the exported report (issue 11, item 3).

``Result._repr_html_`` renders its summary through the report's table layer
(:func:`workbench.presentation.tables.table_html`); the exporter keeps that table as it is, moves
the result's title and meta line into the numbered caption, and shows each exactly once.
"""

from __future__ import annotations

import re

import nbformat
import pandas as pd
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from workbench.results import Result, standard_meta
from workbench.runner.export import export_report


def _result(n_rows: int = 2, alpha: float = 0.1, title: str = "Cox model") -> Result:
    summary = pd.DataFrame(
        {
            "term": [f"contract[level_{i}]" for i in range(n_rows)],
            "estimate": [0.53123 + i / 100 for i in range(n_rows)],
            "ci_lower": [0.5 + i / 100 for i in range(n_rows)],
            "ci_upper": [0.57 + i / 100 for i in range(n_rows)],
            "p_value": [4.7e-88] * n_rows,
            "n": [4893.0] * n_rows,
            "smd": [0.00020 - i / 10**5 for i in range(n_rows)],  # five decimals, as formatted
        }
    )
    meta = standard_meta(
        pd.DataFrame({"x": range(30)}),
        alpha=alpha,
        method="demo fit",
        events=12,
        reference_levels={"plan": "basic"},
    )
    return Result(summary, meta, title=title, warnings=["a caveat"])


def _body(tmp_path, results: list[Result], alpha: float = 0.1) -> str:
    nb = new_notebook()
    cells = [new_markdown_cell("## Models")]
    for i, r in enumerate(results):
        c = new_code_cell(f"res{i}")
        c.outputs = [
            new_output(
                "execute_result",
                data={"text/html": r._repr_html_(), "text/plain": repr(r)},
                execution_count=i + 1,
            )
        ]
        cells.append(c)
    nb.cells = cells
    path = tmp_path / "notebook.ipynb"
    nbformat.write(nb, str(path))
    text = export_report(
        path,
        tmp_path / "r.html",
        manifest={"status": "ok", "parameters": {"alpha": alpha}},
        results={},
    ).read_text()
    return text[text.index('id="wb-notebook"') :]


def _cells(markup: str) -> list[str]:
    """The cells of the first formatted table in ``markup``."""
    table = re.search(r"<table class=.wb-table wb-fmt.>.*?</table>", markup, re.S).group(0)
    return re.findall(r"<td[^>]*>(.*?)</td>", table)


def test_repr_uses_the_report_table_layer():
    html = _result()._repr_html_()
    assert "wb-fmt" in html and "<h4>Cox model</h4>" in html
    # the report's formats: interval merged and labelled from meta['alpha'], p-values, counts
    assert "Estimate (90% CI)" in html and "0.531 (0.500 to 0.570)" in html
    assert "&lt;0.001" in html and ">4,893<" in html and "4893.0" not in html
    assert "contract: level 1" in html  # the model term in words
    assert "95%" not in html
    assert "Estimate (95% CI)" in _result(alpha=0.05)._repr_html_()


def test_report_shows_the_same_table_with_title_and_meta_once(tmp_path):
    r = _result()
    body = _body(tmp_path, [r])
    # the same formatted cells as the notebook view
    assert _cells(body) == _cells(r._repr_html_())
    assert "0.00020" in _cells(body) and "0.0002000" not in body  # not re-rounded by the exporter
    # the title is the numbered caption, once; the meta line its note, once
    assert body.count("Cox model") == 1 and "<strong>Table 1.</strong> Cox model" in body
    assert "<h4>" not in body
    assert body.count("30 customers") == 1 and body.count("reference: plan=basic") == 1
    assert body.count("a caveat") == 1
    # the notebook view brings the table style along; the report uses its own stylesheet
    assert "<style>" in r._repr_html_() and "wb-result table.wb-table" not in body


def test_long_result_tables_are_numbered_once_and_numbering_continues(tmp_path):
    long, short = _result(n_rows=20, title="Long model"), _result(title="Short model")
    body = _body(tmp_path, [long, short])
    # a long table shows its first rows and a "show all" copy: one number, captioned in both
    assert "Show all 20 rows" in body
    assert body.count("<strong>Table 1.</strong> Long model") == 2
    assert body.count("<strong>Table 2.</strong> Short model") == 1
    assert "Table 3." not in body


def test_empty_result_says_so_once(tmp_path):
    r = _result()
    r.summary = r.summary.iloc[:0]
    html = r._repr_html_()
    assert "<table" not in html and "has no rows" in html
    body = _body(tmp_path, [r])
    assert body.count("Cox model") == 1 and "has no rows in this run" in body


def test_the_cohort_table_renders_through_the_same_layer():
    import warnings

    import workbench.retention as R
    from workbench.data import load_dataset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = R.cohort_table(load_dataset("synthetic", n_customers=400, seed=2), max_months=6)
    html = res._repr_html_()
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    assert "wb-fmt" in html and heads[:4] == ["Cohort", "Customers", "Month 0", "Month 1"]


def test_a_survival_estimate_reads_as_a_percentage_under_its_own_name():
    """``estimate`` is the contract's name; the table says "Survival" and shows percentages."""
    import warnings

    import workbench.survival as S
    from workbench.data import load_dataset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = S.cohort_survival(load_dataset("synthetic", n_customers=800, seed=2), alpha=0.1)
    html = res._repr_html_()
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    assert "Survival (90% CI)" in heads and "title='estimate'" in html
    first = res.summary.dropna(subset=["estimate"]).iloc[0]
    pct = f"{100 * first['estimate']:.1f}% ({100 * first['ci_lower']:.1f}% to"
    assert pct in html
