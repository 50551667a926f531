"""Figures of the drivers analysis (H1-H4). Each takes a result and an optional ``ax=`` and returns
the Axes it drew. No estimation here."""

from __future__ import annotations

import numpy as np

from . import get_ax


def plot_hypotheses(result, ax=None):
    """Forest plot of the hypothesis estimates with CIs, coloured by decision."""
    ax = get_ax(ax)
    s = result.summary
    colours = {"supported": "tab:green", "contradicted": "tab:red", "not supported": "tab:grey"}
    y = np.arange(len(s))[::-1]
    for yi, r in zip(y, s.to_dict(orient="records")):
        c = colours.get(r["decision"], "black")
        ax.plot([r["ci_lower"], r["ci_upper"]], [yi, yi], color=c, lw=2)
        ax.plot(r["estimate"], yi, "o", color=c)
    ax.axvline(0, color="black", lw=0.8, ls="--")
    ax.set_yticks(y)
    ax.set_yticklabels(
        [
            f"{r['hypothesis']}: {r['claim']}\n({r['decision']})"
            for r in s.to_dict(orient="records")
        ],
        fontsize=8,
    )
    ax.set_xlabel("estimate (below 0 = less churn)")
    ax.set_title("Hypotheses: estimates and confidence intervals")
    return ax


def plot_satisfaction_form(result, ax=None):
    """Predicted retention at the horizon by satisfaction level with CIs."""
    ax = get_ax(ax)
    p = result.tables["predicted"]
    ax.errorbar(
        p["satisfaction"],
        p["retention"],
        yerr=[p["retention"] - p["ci_lower"], p["ci_upper"] - p["retention"]],
        fmt="o-",
        capsize=4,
    )
    ax.set_xlabel("satisfaction")
    ax.set_ylabel(f"predicted retention at {result.meta.get('horizon', '')} months")
    ax.set_xticks(p["satisfaction"])
    ax.set_title("Retention by satisfaction (standardised, with CIs)")
    return ax


def plot_marginal_effects(result, ax=None):
    """Predicted retention across satisfaction at low / medium / high switching cost, with CI bands."""
    ax = get_ax(ax)
    me = result.tables["marginal_effects"]
    for name, g in me.groupby("switching_cost", sort=False):
        ax.plot(g["satisfaction"], g["retention"], "o-", label=f"{name} switching cost")
        ax.fill_between(g["satisfaction"], g["ci_lower"], g["ci_upper"], alpha=0.2)
    ax.set_xlabel("satisfaction")
    ax.set_ylabel(f"predicted retention at {result.meta.get('horizon', '')} months")
    ax.set_xticks(sorted(me["satisfaction"].unique()))
    ax.legend()
    ax.set_title("Satisfaction x switching costs: marginal effects")
    return ax


def plot_mediation(result, ax=None):
    """Indirect, direct and total effects with CIs (log hazard ratio per satisfaction point)."""
    ax = get_ax(ax)
    s = result.summary[result.summary["effect"] != "proportion_mediated"]
    if not len(s):
        ax.text(
            0.5, 0.5, "no perceived-value column: mediation not available", ha="center", va="center"
        )
        ax.set_axis_off()
        return ax
    y = np.arange(len(s))[::-1]
    ax.errorbar(
        s["estimate"],
        y,
        xerr=[s["estimate"] - s["ci_lower"], s["ci_upper"] - s["estimate"]],
        fmt="o",
        capsize=4,
    )
    ax.set_yticks(y)
    ax.set_yticklabels(s["effect"])
    ax.axvline(0, color="black", lw=0.8, ls="--")
    ax.set_xlabel("log hazard ratio per satisfaction point")
    ax.set_title("Mediation through perceived value")
    return ax


def plot_horizon_sensitivity(result, ax=None):
    """Estimates of H1-H3 across outcome views and horizons."""
    ax = get_ax(ax)
    df = result.summary.copy()
    df["view"] = [
        o if h is None or (isinstance(h, float) and np.isnan(h)) else f"{o} {int(h)}m"
        for o, h in zip(df["outcome"], df["horizon"])
    ]
    views = list(dict.fromkeys(df["view"]))
    for k, (h, g) in enumerate(df.groupby("hypothesis")):
        x = np.array([views.index(v) for v in g["view"]]) + (k - 1) * 0.15
        ax.errorbar(
            x,
            g["estimate"],
            yerr=[g["estimate"] - g["ci_lower"], g["ci_upper"] - g["estimate"]],
            fmt="o",
            capsize=3,
            label=h,
        )
    ax.axhline(0, color="black", lw=0.8, ls="--")
    ax.set_xticks(range(len(views)))
    ax.set_xticklabels(views, rotation=30, ha="right")
    ax.set_ylabel("estimate (below 0 = less churn)")
    ax.legend()
    ax.set_title("Sensitivity to the outcome view and horizon")
    return ax
