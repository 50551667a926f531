"""The one figure style: seaborn theme, palette, font sizes, and helpers every plot uses.

:func:`apply` runs when :mod:`workbench.plotting` is imported, so every figure of a notebook or a
report has the same theme, a colour-blind-safe palette, and text that reads at 1280 px (a 7.5 inch
figure at 100 dpi fills 750 px of the report's 1,100 px column; 11 pt text is about 15 px high).

Helpers for plot functions (each takes and returns the Axes):

* :func:`axis_label` / :func:`tenure_label` / :func:`money_label`: labels with units from the spec;
* :func:`log_ticks`: a log axis (hazard ratios, odds ratios) with plain ticks ``0.5 0.7 1 1.5 2``
  instead of ``6x10^-1``;
* :func:`percent_axis`: a 0-1 axis shown in %;
* :func:`safe_text`: data-derived text with ``$`` escaped (matplotlib would start mathtext);
* :func:`group_name`: a group level in words for legends (``two_year -> "two year"``);
* :func:`has_data`: whether an Axes drew anything, so a caller can write a sentence instead of an
  empty figure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from ..presentation.labels import humanize_term, label, units_from

__all__ = [
    "PALETTE",
    "FIGSIZE",
    "apply",
    "axis_label",
    "group_name",
    "has_data",
    "log_ticks",
    "money_label",
    "percent_axis",
    "safe_text",
    "tenure_label",
]

#: Okabe-Ito colour-blind-safe palette (black last: reference lines)
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
FIGSIZE = (7.5, 4.5)
DPI = 100
RC: dict[str, Any] = {
    "figure.figsize": FIGSIZE,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "savefig.bbox": "tight",
    "font.size": 11,
    "axes.titlesize": 12.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.title_fontsize": 10.5,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.formatter.use_mathtext": False,
    "text.parse_math": False,  # labels are text: '$' in data never starts mathtext
    "axes.formatter.limits": (-4, 6),
    "axes.formatter.use_locale": False,
    "figure.autolayout": False,
    "image.cmap": "viridis",
}

_applied = False


def apply(*, force: bool = False) -> None:
    """Set the workbench theme on matplotlib (seaborn ``whitegrid``, the palette, font sizes).

    Idempotent; runs on ``import workbench.plotting``. ``force=True`` sets it again (e.g. after
    a notebook changed ``rcParams``).
    """
    global _applied
    if _applied and not force:
        return
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE, rc=RC)
    mpl.rcParams.update(RC)
    _applied = True


# ---------------------------------------------------------------------------------- labels
def safe_text(text: Any) -> str:
    """``text`` as matplotlib will show it: the style turns mathtext off (``text.parse_math``),
    so ``$`` in data-derived labels is shown literally and never parsed.

    Examples
    --------
    >>> safe_text("plan $30")
    'plan $30'
    """
    return str(text)


def axis_label(key: str, units: Any = None, *, scale: str | None = None) -> str:
    """Axis label for a column key or quantity, with its unit from the spec.

    ``units`` is a role spec, Dataset, mapping with ``tenure_unit`` / ``currency``, or ``None``.
    ``scale`` adds e.g. ``"log scale"``.

    Examples
    --------
    >>> axis_label("tenure", {"tenure_unit": "weeks"})
    'Tenure (weeks)'
    >>> axis_label("hazard_ratio", scale="log scale")
    'Hazard ratio (log scale)'
    """
    text = label(key, units_from(units))
    if scale:
        text = f"{text} ({scale})"
    return safe_text(text)


def tenure_label(units: Any = None, what: str = "Tenure") -> str:
    """``"Tenure (months)"`` with the spec's tenure unit.

    Examples
    --------
    >>> tenure_label({"tenure_unit": "days"}, "Months since churn".replace("Months", "Time"))
    'Time since churn (days)'
    """
    return safe_text(f"{what} ({units_from(units).tenure})")


def money_label(what: str, units: Any = None) -> str:
    """``"Value per customer (EUR)"``; without a currency in the spec just ``what``.

    Examples
    --------
    >>> money_label("Value per customer", {"currency": "EUR"})
    'Value per customer (EUR)'
    """
    cur = units_from(units).currency
    return safe_text(f"{what} ({cur})" if cur else what)


def group_name(level: Any, names: Mapping[Any, str] | None = None) -> str:
    """A group level in words for legends and tick labels: an explicit display name from
    ``names``, else ``two_year -> "two year"``, ``contract[two_year] -> "contract: two year"``.

    Examples
    --------
    >>> group_name("month_to_month")
    'month to month'
    >>> group_name(1, {1: "offer", 0: "no offer"})
    'offer'
    """
    if names and level in names:
        return safe_text(names[level])
    text = humanize_term(level)
    if text == str(level):
        text = str(level).replace("_", " ")
    return safe_text(text)


# ---------------------------------------------------------------------------------- axes
_NICE = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 7, 10, 20, 50, 100)


def log_ticks(
    ax, axis: str = "x", values: Iterable[float] | None = None, *, reference: float | None = 1.0
):
    """Put ``axis`` on a log scale with plain tick labels (``0.5``, ``1``, ``2``), no minor labels,
    and a reference line at ``reference`` (1 = no difference; ``None`` for none).

    ``values``: the plotted estimates and limits, to choose ticks that span them (default: the
    current axis limits). Returns ``ax``.
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    set_scale = ax.set_xscale if axis == "x" else ax.set_yscale
    get_lim = ax.get_xlim if axis == "x" else ax.get_ylim
    set_scale("log")
    vals = [
        float(v)
        for v in (values or [])
        if v is not None and math.isfinite(float(v)) and float(v) > 0
    ]
    lo, hi = (min(vals), max(vals)) if vals else get_lim()
    lo, hi = min(lo, reference or lo), max(hi, reference or hi)
    ticks = [t for t in _NICE if lo / 1.25 <= t <= hi * 1.25]
    if len(ticks) > 9:
        ticks = [t for t in ticks if t in (0.01, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)]
    if len(ticks) < 3:  # a narrow range: ticks at round steps inside it
        step = 10 ** math.floor(math.log10(max(hi - lo, 1e-9)))
        start = math.floor(lo / step) * step
        ticks = sorted(
            {round(start + i * step, 10) for i in range(0, 12) if start + i * step <= hi * 1.05}
            | {1.0}
        )
        ticks = [t for t in ticks if t > 0]
    axis_obj = ax.xaxis if axis == "x" else ax.yaxis
    axis_obj.set_major_locator(FixedLocator(ticks))
    axis_obj.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis_obj.set_minor_formatter(NullFormatter())
    if reference is not None:
        (ax.axvline if axis == "x" else ax.axhline)(
            reference, color="0.35", linewidth=1, linestyle="--", zorder=0
        )
    if vals:
        pad = 1.15
        (ax.set_xlim if axis == "x" else ax.set_ylim)(
            min(lo, min(ticks)) / pad, max(hi, max(ticks)) * pad
        )
    return ax


def percent_axis(ax, axis: str = "y", *, xmax: float = 1.0, decimals: int | None = 0):
    """Show a 0-1 (``xmax=1``) or 0-100 (``xmax=100``) axis in % . Returns ``ax``."""
    from matplotlib.ticker import PercentFormatter

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(
        PercentFormatter(xmax=xmax, decimals=decimals)
    )
    return ax


def has_data(ax) -> bool:
    """Whether ``ax`` (or a Figure's axes) shows any data: lines with points, patches, images,
    collections with offsets. Use it to write a sentence instead of showing an empty figure."""
    axes = getattr(ax, "axes", None)
    axes = [ax] if hasattr(ax, "lines") else list(axes or [])
    for a in axes:
        if any(len(line.get_xdata()) for line in a.lines):
            return True
        if a.images or any(
            p.get_visible() for p in a.patches if hasattr(p, "get_width") and p.get_width()
        ):
            return True
        for c in a.collections:
            try:
                if len(c.get_offsets()) or len(c.get_paths()):
                    return True
            except Exception:
                return True
    return False
