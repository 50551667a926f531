"""Figures for purchase histories: tracking plot, conditional expectations, P(alive) against value,
priorities. Every function takes a result plus an optional ``ax=``, draws and returns the Axes."""

from __future__ import annotations

import numpy as np

from . import get_ax


def plot_tracking(result, ax=None, *, cumulative: bool = True):
    """Actual and expected (cumulative) repeat purchases per period; the calibration end marked."""
    ax = get_ax(ax)
    t = result.tables["tracking"]
    a, e = ("actual_cumulative", "expected_cumulative") if cumulative else ("actual", "expected")
    ax.plot(t["period_end"], t[a], color="k", label="actual")
    ax.plot(
        t["period_end"],
        t[e],
        color="C0",
        ls="--",
        label=f"{result.meta.get('model', 'model')} expected",
    )
    cal = result.meta.get("calibration_length")
    if cal is not None:
        ax.axvline(cal, color="grey", ls=":", lw=1)
        ax.text(cal, ax.get_ylim()[1] * 0.02, " holdout", color="grey", va="bottom")
    unit = result.meta.get("time_unit") or "periods"
    ax.set_xlabel(f"{unit} since the cohort's first purchase")
    ax.set_ylabel(("cumulative " if cumulative else "") + "repeat purchases")
    ax.legend(loc="best")
    return ax


def plot_conditional_expectations(result, ax=None):
    """Mean holdout purchases by calibration frequency: actual (with +-1.96 SE) and expected."""
    ax = get_ax(ax)
    s = result.summary
    x = np.arange(len(s))
    ax.errorbar(
        x,
        s["actual"],
        yerr=1.96 * s["actual_se"].fillna(0),
        fmt="o-",
        color="k",
        capsize=3,
        label="actual",
    )
    ax.plot(
        x, s["estimate"], "s--", color="C0", label=f"{result.meta.get('model', 'model')} expected"
    )
    ax.set_xticks(x, s["group"].tolist())
    ax.set_xlabel("repeat purchases in calibration")
    ax.set_ylabel(
        f"mean purchases in the {result.meta.get('holdout_length', 0):g}-{(result.meta.get('time_unit') or 'period').rstrip('s')} holdout"
    )
    ax.legend(loc="best")
    return ax


def plot_p_alive_value(result, ax=None):
    """Each customer's P(alive) against her expected purchases (or CLV when predicted)."""
    ax = get_ax(ax)
    c = result.customers
    ycol = "clv" if "clv" in c else "expected_purchases"
    ax.scatter(c["p_alive"], c[ycol], s=6, alpha=0.4, color="C0")
    ax.set_xlabel("P(alive)")
    ax.set_ylabel("discounted CLV" if ycol == "clv" else "expected purchases")
    return ax


def plot_priority(result, ax=None):
    """Value at risk by tier and status (stacked bars)."""
    ax = get_ax(ax)
    s = result.summary
    tiers = [t for t in ("key", "ordinary", "small") if t in set(s["tier"].astype(str))]
    bottom = np.zeros(len(tiers))
    for i, status in enumerate(("lapsed", "hesitating", "active")):
        v = np.array(
            [
                s.loc[(s["tier"].astype(str) == t) & (s["status"] == status), "value_at_risk"].sum()
                for t in tiers
            ]
        )
        ax.bar(tiers, v, bottom=bottom, color=f"C{i + 1}", label=status)
        bottom += v
    ax.set_ylabel("value at risk")
    ax.legend(title="status", loc="best")
    return ax
