"""Figures of customer histories: state occupation, win-back curves, snapshot vs delayed entry.

Every function draws on ``ax`` (a new one when omitted) and returns the Axes; nothing is estimated
here (the results come from :mod:`workbench.survival.multistate` / ``spells`` / ``km``).
"""

from __future__ import annotations

import numpy as np

from . import get_ax
from .style import percent_axis, tenure_label

__all__ = ["plot_entry_comparison", "plot_state_occupation", "plot_winback"]


def _step(ax, t, y, lo=None, hi=None, *, color, label, start=None):
    t = np.asarray(t, float)
    y = np.asarray(y, float)
    if start is not None:
        t, y = np.r_[0.0, t], np.r_[start, y]
        if lo is not None:
            lo, hi = np.r_[start, lo], np.r_[start, hi]
    ax.step(t, y, where="post", color=color, label=label)
    if lo is not None:
        ax.fill_between(t, lo, hi, step="post", alpha=0.15, color=color, linewidth=0)


def plot_state_occupation(result, ax=None, *, ci: bool = True, stacked: bool = False, unit=None):
    """Probability of being in each state by tenure (Aalen-Johansen), with pointwise CIs.

    ``result`` is a :class:`~workbench.survival.multistate.StateOccupationResult`; ``stacked=True``
    stacks the states (they sum to one). Returns the Axes.
    """
    ax = get_ax(ax)
    cur = result.tables["curves"]
    states = result.meta["states"]
    grid = np.unique(cur["time"].to_numpy(float))
    base = np.zeros(len(grid))
    for k, s in enumerate(states):
        c = cur[cur["state"] == s]
        if stacked:
            ax.fill_between(
                grid,
                base,
                base + c["estimate"].to_numpy(),
                step="post",
                alpha=0.75,
                color=f"C{k}",
                label=s.replace("_", " "),
            )
            base = base + c["estimate"].to_numpy()
        else:
            lo = c["ci_lower"].fillna(c["estimate"]).to_numpy() if ci else None
            hi = c["ci_upper"].fillna(c["estimate"]).to_numpy() if ci else None
            _step(ax, c["time"], c["estimate"], lo, hi, color=f"C{k}", label=s.replace("_", " "))
    ax.set_xlabel(tenure_label(unit))
    ax.set_ylabel("share of customers in the state")
    percent_axis(ax)
    ax.legend(loc="best", frameon=False)
    return ax


def plot_winback(result, ax=None, *, ci: bool = True, names=None):
    """Probability of having returned by time since churn, one curve per group. Returns the Axes."""
    ax = get_ax(ax)
    cur = result.tables["curves"]
    group_col = result.meta.get("group_col")
    for k, (g, c) in enumerate(cur.groupby("group", sort=False)):
        label = "all churners" if group_col is None else f"{group_col} = {(names or {}).get(g, g)}"
        _step(
            ax,
            c["time"],
            c["estimate"],
            c["ci_lower"] if ci else None,
            c["ci_upper"] if ci else None,
            color=f"C{k}",
            label=label,
            start=0.0,
        )
    ax.set_xlabel("months since churn")
    ax.set_ylabel("probability of having returned")
    percent_axis(ax)
    ax.legend(loc="best", frameon=False)
    return ax


def plot_entry_comparison(naive, entry, ax=None, *, truth=None, unit=None):
    """Kaplan-Meier of a snapshot without and with delayed entry (and the truth when known).

    ``naive`` and ``entry`` are :class:`~workbench.survival.km.KaplanMeierResult` objects of one
    group; ``truth`` an optional ``(times, survival)`` pair. Returns the Axes.
    """
    ax = get_ax(ax)
    for k, (res, label) in enumerate(
        (
            (naive, "as if followed from joining (naive)"),
            (entry, "delayed entry (risk sets start at entry)"),
        )
    ):
        c = res.curves
        _step(
            ax,
            c["time"],
            c["survival"],
            c["ci_lower"],
            c["ci_upper"],
            color=f"C{k}",
            label=label,
            start=1.0,
        )
    if truth is not None:
        t, s = truth
        ax.plot(
            np.asarray(t, float),
            np.asarray(s, float),
            "o",
            color="k",
            ms=5,
            label="truth (simulation)",
        )
    ax.set_xlabel(tenure_label(unit))
    ax.set_ylabel("share still a customer")
    percent_axis(ax)
    ax.legend(loc="best", frameon=False)
    return ax
