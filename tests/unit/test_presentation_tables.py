"""The one table formatting layer (workbench.presentation.tables) on the shapes results take."""

from __future__ import annotations

import doctest
import re

import pandas as pd
import pytest

from workbench.presentation import tables
from workbench.presentation.html_tables import parse_table, reformat_tables
from workbench.presentation.tables import column_format, table_html


def _cells(markup: str) -> list[str]:
    return [c for c in (x.strip() for x in re.split(r"<[^>]+>", markup)) if c]


@pytest.mark.parametrize(
    ("key", "values", "expected"),
    [
        ("n", [4893.0, 12.0, None], ["4,893", "12", "–"]),
        ("cohort", [2020, 2021], ["2020", "2021"]),  # years keep no separator
        ("p_value", [4.721e-88, 0.0123, 1.0], ["<0.001", "0.012", "1.000"]),
        ("churn_rate", [0.049, 0.1234], ["4.9%", "12.3%"]),
        ("hazard_ratio", [3.0, 12.0, float("inf")], ["3", "12", "∞"]),
        ("estimate", [1.0, 1.25, 0.5], ["1.00", "1.25", "0.50"]),
        ("p_alive", [0.81, 0.5], ["81.0%", "50.0%"]),
    ],
)
def test_one_format_per_column(key, values, expected):
    f = column_format(key, values)
    assert [f(v) for v in values] == expected


def test_rows_of_different_units_get_their_own_format():
    df = pd.DataFrame(
        {
            "estimand": ["survival_arm", "nnt", "survival_ratio"],
            "estimate": [0.838, -415.0, 0.997],
            "ci_lower": [0.830, None, 0.985],
            "ci_upper": [0.848, None, 1.010],
            "unit": ["probability", "customers treated per customer retained", "ratio"],
        }
    )
    cells = _cells(table_html(df, alpha=0.05))
    assert "83.8% (83.0% to 84.8%)" in cells and "-415" in cells
    assert "0.997 (0.985 to 1.010)" in cells and "survival arm" in cells


def test_pandas_html_round_trip_drops_the_index_and_keeps_a_named_one():
    df = pd.DataFrame({"hr": [0.5, 2.0]}, index=pd.Index(["a_b", "c"], name="term"))
    parsed = parse_table(df.to_html())
    assert list(parsed.columns) == ["term", "hr"] and parsed["term"].tolist() == ["a_b", "c"]
    plain = parse_table(pd.DataFrame({"x": [1, 2, 3]}).to_html())
    assert list(plain.columns) == ["x"]


def test_empty_table_becomes_a_sentence_and_markup_tables_scroll():
    out, n = reformat_tables(pd.DataFrame({"x": []}).to_html())
    assert n == 0 and "has no rows" in out
    out, n = reformat_tables("<table><tr><td><a href='#x'>link</a></td></tr></table>")
    assert n == 0 and out.startswith("<div class='wb-table-wrap'>")


def test_caption_numbers_and_note():
    out, n = reformat_tables(
        pd.DataFrame({"x": [1]}).to_html(), caption="Cox", first_number=4, note="20 customers"
    )
    assert n == 1 and "<strong>Table 4.</strong> Cox" in out and "20 customers" in out


def test_docstring_examples():
    assert doctest.testmod(tables).failed == 0


def test_a_hazard_ratio_interval_is_merged_with_the_hazard_ratio_not_the_log_estimate():
    """The result contract's Cox table: a log-scale estimate with its interval, and beside it the
    hazard ratio with ``hr_ci_lower`` / ``hr_ci_upper``: two merged columns, one format each."""
    cox = pd.DataFrame(
        {
            "term": ["segment[enterprise]", "age"],
            "estimate": [0.1126, 0.0004],
            "ci_lower": [0.0199, -0.0010],
            "ci_upper": [0.2053, 0.0018],
            "hazard_ratio": [1.1192, 1.0004],
            "hr_ci_lower": [1.0201, 0.9990],
            "hr_ci_upper": [1.2279, 1.0018],
        }
    )
    html = table_html(cox, alpha=0.1)
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    assert heads == ["Term", "Estimate (90% CI)", "Hazard ratio (90% CI)"]  # no HR CI columns
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html)
    # one format per column, with the decimals it takes for the bounds of every interval to differ
    # (1.0004 per year of age is not "1.00 (1.00 to 1.00)")
    assert cells[2] == "1.119 (1.020 to 1.228)" and cells[5] == "1.000 (0.999 to 1.002)"
    assert cells[1] == "0.1126 (0.0199 to 0.2053)"


def test_columns_of_proportions_named_otherwise_can_be_shown_as_percentages():
    df = pd.DataFrame({"estimate": [0.777], "ci_lower": [0.709], "ci_upper": [0.851]})
    assert "0.777 (0.709 to 0.851)" in table_html(df)
    assert "77.7% (70.9% to 85.1%)" in table_html(df, percent=["estimate"])
    big = pd.DataFrame({"estimate": [3.5]})  # not a proportion: stays a number
    assert "3.50" in table_html(big, percent=["estimate"])
