"""Figures of competing churn causes: cumulative incidence curves."""

from __future__ import annotations

import numpy as np

from . import get_ax


def plot_cumulative_incidence(
    result, ax=None, *, stacked: bool | None = None, ci: bool = True, causes=None, **kwargs
):
    """Cumulative incidence of each churn cause over tenure.

    Without groups the causes are stacked by default (the top edge is the all-cause churn
    probability, the bands show each cause's share); with groups every (cause, group) curve is a
    step line with its pointwise CI band (``ci=True``). ``result`` is a
    :class:`~workbench.survival.competing.CumulativeIncidenceResult`. Returns the Axes.
    """
    curves = result.curves
    if causes is not None:
        curves = curves[curves["cause"].isin([str(c) for c in causes])]
    groups = list(dict.fromkeys(curves["group"]))
    if stacked is None:
        stacked = len(groups) == 1
    ax = get_ax(ax)
    unit = result.meta.get("duration_col", "tenure")
    if stacked and len(groups) == 1:
        grid = np.unique(curves["time"].to_numpy(dtype=float))
        grid = (
            np.r_[grid, max(result._max_time.values())]
            if getattr(result, "_max_time", None)
            else grid
        )
        base = np.zeros(len(grid))
        for k, (cause, c) in enumerate(curves.groupby("cause", sort=False)):
            t = c["time"].to_numpy(dtype=float)
            est = c["estimate"].to_numpy(dtype=float)
            vals = est[np.searchsorted(t, grid, side="right") - 1]
            ax.fill_between(
                grid, base, base + vals, step="post", alpha=0.7, color=f"C{k}", label=str(cause)
            )
            base = base + vals
        ax.set_ylabel("cumulative probability of churn (stacked by cause)")
    else:
        for k, ((cause, group), c) in enumerate(curves.groupby(["cause", "group"], sort=False)):
            t = c["time"].to_numpy(dtype=float)
            label = str(cause) if len(groups) == 1 else f"{cause} | {group}"
            end = (
                result._max_time.get(group, t[-1]) if getattr(result, "_max_time", None) else t[-1]
            )
            tt = np.r_[t, end]
            est = np.r_[c["estimate"].to_numpy(dtype=float), c["estimate"].iloc[-1]]
            ax.step(tt, est, where="post", color=f"C{k % 10}", label=label)
            if ci:
                lo = np.r_[c["ci_lower"].to_numpy(dtype=float), c["ci_lower"].iloc[-1]]
                hi = np.r_[c["ci_upper"].to_numpy(dtype=float), c["ci_upper"].iloc[-1]]
                ax.fill_between(
                    tt, lo, hi, step="post", alpha=0.15, color=f"C{k % 10}", linewidth=0
                )
        ax.set_ylabel("cumulative incidence")
    ax.set_xlabel(str(unit))
    ax.set_ylim(bottom=0)
    ax.set_title(getattr(result, "title", ""))
    ax.legend(loc="upper left", fontsize="small")
    return ax
