"""Figures for the retention overview: rates per period, lifecycle stages, causes, cohort heatmap.

Every function takes a result (or its summary) plus an optional ``ax=``, draws and returns the Axes.
"""

from __future__ import annotations

import numpy as np

from . import get_ax


def _message(ax, text):
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes)
    ax.set_axis_off()
    return ax


def plot_rates(result, ax=None, *, min_at_risk: int = 30):
    """Churn rate per period with its CI (periods with fewer than ``min_at_risk`` customers omitted)."""
    ax = get_ax(ax)
    s = result.summary
    if len(s) and "customer_months" in s and "group" in s and "period" not in s:
        return plot_segment_rates(result, ax=ax)
    if not len(s) or "estimate" not in s:
        return _message(ax, "; ".join(result.warnings) or "no rates")
    if "customers_at_risk" in s:
        s = s[s["customers_at_risk"] >= min_at_risk]
    label = s["period"] if "period" in s else s["group"]
    x = np.arange(len(s))
    y = 100 * s["estimate"].to_numpy(dtype=float)
    lo = 100 * s["ci_lower"].to_numpy(dtype=float)
    hi = 100 * s["ci_upper"].to_numpy(dtype=float)
    ax.plot(x, y, marker="o", color="C3")
    ax.fill_between(x, lo, hi, color="C3", alpha=0.2, label=result.ci_label)
    step = max(1, len(x) // 12)
    ax.set_xticks(x[::step], [str(v) for v in label.iloc[::step]], rotation=45, ha="right")
    ax.set_ylabel("churn rate (% of customers active at period start)")
    ax.set_ylim(bottom=0)
    ax.legend(loc="best")
    return ax


def plot_segment_rates(result, ax=None):
    """Monthly churn rate (per 100 customer-months) per segment with exact Poisson CIs."""
    ax = get_ax(ax)
    s = result.summary
    x = np.arange(len(s))
    y = 100 * s["estimate"].to_numpy(dtype=float)
    err = np.vstack(
        [
            y - 100 * s["ci_lower"].to_numpy(dtype=float),
            100 * s["ci_upper"].to_numpy(dtype=float) - y,
        ]
    )
    ax.bar(x, y, yerr=err, capsize=4, color="C0")
    ax.set_xticks(x, s["group"].astype(str).tolist())
    ax.set_xlabel(str(result.meta.get("group_col", "segment")))
    ax.set_ylabel("churn per 100 customer-months")
    return ax


def plot_lifecycle(result, ax=None):
    """Monthly churn rate by lifecycle stage (tenure band) with CIs, one line per group if grouped."""
    ax = get_ax(ax)
    s = result.summary
    groups = [(None, s)] if "group" not in s else list(s.groupby("group", sort=False))
    for i, (g, d) in enumerate(groups):
        x = np.arange(len(d))
        y = 100 * d["monthly_churn_rate"].to_numpy(dtype=float)
        err = np.vstack(
            [
                y - 100 * d["monthly_ci_lower"].to_numpy(dtype=float),
                100 * d["monthly_ci_upper"].to_numpy(dtype=float) - y,
            ]
        )
        ax.errorbar(
            x + 0.1 * i, y, yerr=err, marker="o", capsize=3, label=str(g) if g is not None else None
        )
        ax.set_xticks(x, d["stage"].tolist())
    ax.set_xlabel("tenure stage (months)")
    ax.set_ylabel("churn per 100 customer-months")
    if len(groups) > 1:
        ax.legend(title=result.meta.get("group_col"))
    ax.set_ylim(bottom=0)
    return ax


def plot_causes(result, ax=None):
    """Share of churners by cause with CIs (horizontal bars)."""
    ax = get_ax(ax)
    s = result.summary
    if not len(s):
        return _message(ax, "; ".join(result.warnings) or "no causes")
    if "group" in s:
        s = s.groupby("cause", as_index=False)["churned"].sum()
        s["estimate"] = s["churned"] / s["churned"].sum()
        s["ci_lower"] = s["ci_upper"] = s["estimate"]
    s = s.sort_values("estimate")
    y = np.arange(len(s))
    share = 100 * s["estimate"].to_numpy(dtype=float)
    err = np.vstack(
        [
            share - 100 * s["ci_lower"].to_numpy(dtype=float),
            100 * s["ci_upper"].to_numpy(dtype=float) - share,
        ]
    )
    ax.barh(y, share, xerr=err, color="C0", capsize=3)
    ax.set_yticks(y, s["cause"].tolist())
    ax.set_xlabel("share of churners (%)")
    return ax


def plot_cohort_heatmap(result, ax=None, *, cmap: str = "viridis"):
    """Heatmap of retention % (cohort x months since joining); censored cells stay blank."""
    ax = get_ax(ax, figsize=(9.0, 6.0))
    pct = result.tables.get("retention_pct")
    if pct is None or not len(pct):
        return _message(ax, "; ".join(result.warnings) or "cohort table unavailable")
    data = np.ma.masked_invalid(pct.to_numpy(dtype=float))
    im = ax.imshow(data, aspect="auto", cmap=cmap, vmin=0, vmax=100, interpolation="nearest")
    ax.set_facecolor("white")
    ax.figure.colorbar(im, ax=ax, label="retention (%)")
    ystep = max(1, len(pct.index) // 20)
    ax.set_yticks(np.arange(len(pct.index))[::ystep], [str(c) for c in pct.index[::ystep]])
    xstep = max(1, len(pct.columns) // 12)
    ax.set_xticks(np.arange(len(pct.columns))[::xstep], [str(c) for c in pct.columns[::xstep]])
    ax.set_xlabel("months since joining")
    ax.set_ylabel("joining cohort")
    return ax
