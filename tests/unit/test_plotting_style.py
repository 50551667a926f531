"""The one figure style and the shared display names (workbench.plotting.style, presentation.labels)."""

from __future__ import annotations

import doctest

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import workbench.plotting  # noqa: E402, F401  (applies the style)
from workbench.plotting import style  # noqa: E402
from workbench.presentation import labels  # noqa: E402


def test_import_applies_the_theme():
    assert matplotlib.rcParams["font.size"] == style.RC["font.size"]
    assert matplotlib.rcParams["axes.formatter.use_mathtext"] is False
    from matplotlib.colors import to_hex

    colours = [to_hex(c["color"]) for c in matplotlib.rcParams["axes.prop_cycle"]]
    assert colours[:3] == [c.lower() for c in style.PALETTE[:3]]


def test_log_ticks_are_plain_numbers_spanning_the_values():
    fig, ax = plt.subplots()
    ax.plot([0.55, 2.4], [0, 1], "o")
    style.log_ticks(ax, values=[0.55, 0.8, 2.4])
    fig.canvas.draw()
    texts = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    plt.close(fig)
    assert texts[0] == "0.5" and "1" in texts and texts[-1] == "3"
    assert not any("10^" in t or "times" in t for t in texts)
    assert ax.get_xscale() == "log"


def test_log_ticks_narrow_range_still_has_three_ticks():
    fig, ax = plt.subplots()
    style.log_ticks(ax, values=[0.97, 1.02])
    ticks = ax.xaxis.get_major_locator().tick_values(0.9, 1.1)
    plt.close(fig)
    assert len(ticks) >= 3 and 1.0 in list(ticks)


def test_has_data_tells_an_empty_axes_apart():
    fig, (a, b) = plt.subplots(1, 2)
    a.plot([1, 2], [3, 4])
    assert style.has_data(a) and not style.has_data(b)
    b.bar(["x"], [2.0])
    assert style.has_data(b)
    plt.close(fig)


@pytest.mark.parametrize(
    ("key", "units", "expected"),
    [
        ("median_tenure", {"tenure_unit": "weeks"}, "Median tenure (weeks)"),
        ("clv", {"currency": "EUR"}, "Customer lifetime value (EUR)"),
        ("clv", None, "Customer lifetime value"),
        ("rmst_difference", None, "Difference in mean tenure (months)"),
        ("some_new_key", None, "Some new key"),
        ("contract[two_year]", None, "Contract: two year"),
    ],
)
def test_labels_carry_units_from_the_spec(key, units, expected):
    assert labels.label(key, labels.units_from(units)) == expected


def test_units_from_a_spec_without_currency():
    class Spec:
        tenure_unit = "days"

    assert labels.units_from(Spec()) == {"tenure": "days", "currency": ""}


def test_dollar_signs_are_literal_and_groups_named_in_words():
    import matplotlib as mpl

    assert style.safe_text("$30 plan") == "$30 plan"
    assert mpl.rcParams["text.parse_math"] is False  # so '$' in data never starts mathtext
    assert style.group_name("month_to_month") == "month to month"
    assert style.axis_label("tenure", {"tenure_unit": "months"}) == "Tenure (months)"


def test_docstring_examples():
    for mod in (style, labels):
        assert doctest.testmod(mod).failed == 0
