"""Survival figures: Kaplan-Meier curves with a number-at-risk table, RMST, hazards, parametric fits.

Every function takes a result (or data) plus an optional ``ax=``, draws, and returns the Axes. No
estimation happens here.
"""

from __future__ import annotations

import numpy as np

from ..presentation.labels import units_from
from . import get_ax
from .style import tenure_label

__all__ = [
    "plot_cohorts",
    "plot_hazard",
    "plot_km",
    "plot_parametric",
    "plot_rmst",
    "plot_stage_hazard",
]


def _per(meta) -> str:
    """The tenure unit in the singular ("month"), for rates per unit of tenure."""
    unit = units_from(meta).tenure
    return unit[:-1] if unit.endswith("s") else unit


def _risk_times(curves, n_ticks: int = 6) -> np.ndarray:
    t_max = float(curves["time"].max())
    ticks = np.linspace(0.0, t_max, n_ticks)
    step = 10 ** np.floor(np.log10(max(t_max / (n_ticks - 1), 1e-12)))
    for mult in (1, 2, 3, 5, 6, 10):
        if t_max / (step * mult) <= n_ticks - 1:
            ticks = np.arange(0.0, t_max + 1e-9, step * mult)
            break
    return ticks


def plot_km(result, ax=None, at_risk: bool = True, ci: bool = True, title: str | None = None):
    """Kaplan-Meier step curves with confidence bands and a number-at-risk table under the axes.

    Parameters
    ----------
    result : KaplanMeierResult
    ax : matplotlib Axes, optional
    at_risk : bool
        Draw the number at risk (unweighted counts) at the tick times under the curves.
    ci : bool
        Draw the pointwise confidence band.

    Returns
    -------
    matplotlib Axes
    """
    curves = result.curves
    groups = list(dict.fromkeys(curves["group"]))
    ax = get_ax(ax, figsize=(7.0, 4.5 + (0.25 * len(groups) if at_risk else 0.0)))
    ticks = _risk_times(curves)
    colors = [f"C{i % 10}" for i in range(len(groups))]
    for g, col in zip(groups, colors, strict=True):
        cur = curves[curves["group"] == g]
        t = np.concatenate([[0.0], cur["time"].to_numpy()])
        s = np.concatenate([[1.0], cur["survival"].to_numpy()])
        ax.step(t, s, where="post", color=col, label=str(g))
        if ci:
            lo = np.concatenate([[1.0], cur["ci_lower"].to_numpy()])
            hi = np.concatenate([[1.0], cur["ci_upper"].to_numpy()])
            ax.fill_between(t, lo, hi, step="post", color=col, alpha=0.18, linewidth=0)
        cens = cur[cur["censored"] > 0]
        if 0 < len(cens) <= 300:
            ax.plot(cens["time"], cens["survival"], "|", color=col, markersize=5, alpha=0.6)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_xlabel(tenure_label(result.meta))
    ax.set_ylabel("share of customers retained")
    if title:
        ax.set_title(title)
    if len(groups) > 1 or groups[0] != "all":
        ax.legend(title=result.meta.get("group_col"), frameon=False, fontsize="small")
    if at_risk:
        col_n = "n_at_risk" if "n_at_risk" in curves else "at_risk"
        ax.set_xticks(ticks)
        t_end = max(float(curves["time"].max()), float(ticks[-1]))
        ax.set_xlim(-0.02 * t_end, t_end * 1.02)
        top = -0.22
        ax.text(
            -0.04,
            top,
            "Number at risk",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize="x-small",
            weight="bold",
        )
        for k, (g, col) in enumerate(zip(groups, colors, strict=True)):
            cur = curves[curves["group"] == g]
            t = cur["time"].to_numpy()
            n = cur[col_n].to_numpy()
            idx = np.searchsorted(t, ticks, side="left")
            counts = [int(n[i]) if i < len(t) else 0 for i in idx]
            y = top - 0.07 * (k + 1)
            ax.text(
                -0.04,
                y,
                str(g)[:18],
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize="x-small",
                color=col,
            )
            for x, c in zip(ticks, counts, strict=True):
                ax.annotate(
                    f"{c:,}",
                    (x, y),
                    xycoords=("data", "axes fraction"),
                    ha="center",
                    va="top",
                    fontsize="x-small",
                )
        ax.figure.subplots_adjust(bottom=min(0.2 + 0.06 * len(groups), 0.5), left=0.22)
    return ax


def plot_rmst(result, ax=None):
    """RMST per group with its confidence interval (horizontal bars)."""
    ax = get_ax(ax)
    s = result.summary
    y = np.arange(len(s))
    ax.errorbar(
        s["estimate"],
        y,
        xerr=[s["estimate"] - s["ci_lower"], s["ci_upper"] - s["estimate"]],
        fmt="o",
        capsize=3,
    )
    ax.set_yticks(y, s["group"])
    unit = units_from(result.meta).tenure
    ax.set_xlabel(f"Restricted mean tenure ({unit}) within the first {result.meta['tau']:g} {unit}")
    ax.invert_yaxis()
    return ax


def plot_hazard(result, ax=None, ci: bool = True):
    """Smoothed hazard rate over tenure per group (a :class:`HazardResult`)."""
    ax = get_ax(ax)
    tab = result.smoothed
    for i, (g, cur) in enumerate(tab.groupby("group", sort=False)):
        col = f"C{i % 10}"
        ax.plot(cur["time"], cur["hazard"], color=col, label=str(g))
        if ci and "ci_lower" in cur:
            ax.fill_between(
                cur["time"], cur["ci_lower"], cur["ci_upper"], color=col, alpha=0.15, linewidth=0
            )
    ax.set_xlabel(tenure_label(result.meta))
    ax.set_ylabel(f"Churn hazard per {_per(result.meta)}")
    ax.set_ylim(bottom=0)
    if tab["group"].nunique() > 1:
        ax.legend(frameon=False, fontsize="small")
    return ax


def plot_stage_hazard(result, ax=None):
    """Life-table churn hazard per lifecycle stage with CIs (a :class:`StageHazardResult`)."""
    ax = get_ax(ax)
    s = result.summary
    groups = list(dict.fromkeys(s["group"]))
    stages = list(dict.fromkeys(s["stage"]))
    width = 0.8 / len(groups)
    x = np.arange(len(stages))
    for i, g in enumerate(groups):
        sub = s[s["group"] == g].set_index("stage").reindex(stages)
        ax.bar(
            x + i * width - 0.4 + width / 2,
            sub["estimate"],
            width,
            yerr=[sub["estimate"] - sub["ci_lower"], sub["ci_upper"] - sub["estimate"]],
            capsize=2,
            label=str(g),
            color=f"C{i % 10}",
        )
    ax.set_xticks(x, stages)
    ax.set_xlabel(tenure_label(result.meta, "Lifecycle stage"))
    ax.set_ylabel(f"Churn hazard per {_per(result.meta)}")
    if len(groups) > 1:
        ax.legend(frameon=False, fontsize="small")
    return ax


def plot_parametric(result, ax=None, km=None, models=None):
    """Fitted parametric survival curves, solid within follow-up and dashed (labelled) beyond it.

    Parameters
    ----------
    result : ParametricResult
    km : KaplanMeierResult, optional
        Drawn as a grey step curve for comparison.
    models : list of str, optional
        Which models to draw (default all).
    """
    ax = get_ax(ax)
    curves = result.curves
    follow = result.meta["max_followup"]
    if km is not None:
        for g, cur in km.curves.groupby("group", sort=False):
            t = np.concatenate([[0.0], cur["time"].to_numpy()])
            s = np.concatenate([[1.0], cur["survival"].to_numpy()])
            ax.step(
                t,
                s,
                where="post",
                color="0.45",
                linewidth=1.0,
                label="Kaplan-Meier" if g == km.groups[0] else None,
            )
    names = models or list(dict.fromkeys(curves["model"]))
    for i, m in enumerate(names):
        cur = curves[curves["model"] == m]
        col = f"C{i % 10}"
        inside = cur[cur["time"] <= follow]
        beyond = cur[cur["time"] >= follow]
        ax.plot(inside["time"], inside["survival"], color=col, label=m)
        if len(beyond):
            ax.plot(beyond["time"], beyond["survival"], color=col, linestyle="--", alpha=0.8)
    if curves["time"].max() > follow:
        ax.axvline(follow, color="0.3", linestyle=":", linewidth=1)
        ax.axvspan(follow, curves["time"].max(), color="0.92", zorder=0)
        ax.text(
            follow,
            0.98,
            "  extrapolation beyond follow-up",
            va="top",
            fontsize="small",
            color="0.3",
        )
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_xlabel(tenure_label(result.meta))
    ax.set_ylabel("share of customers retained")
    ax.legend(frameon=False, fontsize="small")
    return ax


def plot_cohorts(result, ax=None):
    """Heat map of Kaplan-Meier survival by joining cohort (rows) and horizon (columns)."""
    ax = get_ax(ax, figsize=(6.5, 0.22 * max(len(result.tables.get("matrix", [])), 8) + 1.5))
    if not result.meta.get("available", False):
        ax.text(
            0.5,
            0.5,
            "no joining dates: cohorts unavailable",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return ax
    m = result.tables["matrix"].set_index("cohort")
    vals = m.to_numpy(dtype=float)
    im = ax.imshow(np.ma.masked_invalid(vals), aspect="auto", cmap="viridis", vmin=0, vmax=1)
    ax.set_yticks(np.arange(len(m)), m.index)
    ax.set_xticks(np.arange(m.shape[1]), [c.replace("survival_", "") for c in m.columns])
    ax.set_xlabel(tenure_label(result.meta, "Tenure horizon"))
    ax.set_ylabel("joining cohort")
    if len(m) <= 40:
        for i in range(vals.shape[0]):
            for j in range(vals.shape[1]):
                if np.isfinite(vals[i, j]):
                    ax.text(
                        j,
                        i,
                        f"{vals[i, j]:.2f}",
                        ha="center",
                        va="center",
                        fontsize="xx-small",
                        color="w",
                    )
    ax.figure.colorbar(im, ax=ax, label="share retained")
    return ax
