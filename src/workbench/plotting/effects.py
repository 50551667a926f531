"""Figures of intervention effects: adjusted survival curves with unweighted numbers at risk, love
plot, propensity overlap, effects by segment, Qini curve, win-back curves, forest of estimands.

Every function takes a result plus an optional ``ax=``, draws, and returns the Axes. No estimation.
A result with nothing to draw (no win-back contacts in the data, a study without a treatment role)
gives a :class:`Sentence` saying so instead of an empty figure.
"""

from __future__ import annotations

import numpy as np

from . import get_ax


class Sentence:
    """What a notebook shows instead of an empty figure: one sentence saying why there is none."""

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        return f"*{self.text}*"


def _nothing_to_draw(result, table: str | None = None, what: str = "figure"):
    """A :class:`Sentence` when ``result`` (or its ``table``) is empty, else None."""
    frame = result.tables.get(table) if table else result.summary
    if frame is not None and len(frame):
        return None
    reasons = [str(w) for w in getattr(result, "warnings", [])]
    why = reasons[0] if reasons else "the analysis returned no rows"
    note = Sentence(f"No {what}: {why[0].lower() + why[1:] if why else why}")
    _show(note)
    return note


def _show(note: Sentence) -> None:
    """In a notebook, show the sentence where the figure would be (figure cells end with ';')."""
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:  # pragma: no cover - IPython ships with Jupyter
        return
    if get_ipython() is not None:
        display(Markdown(note._repr_markdown_()))


__all__ = [
    "plot_effect_curves",
    "plot_forest",
    "plot_hte",
    "plot_love",
    "plot_overlap",
    "plot_qini",
    "plot_winback",
]


def plot_effect_curves(result, ax=None, arm: str | None = None, at_risk: bool = True):
    """Survival curve of one arm and of control (adjusted if weighted) with CIs; the number at risk
    (unweighted counts) is printed under the axes."""
    # an EffectResult keeps its curves in tables['curves']; an IPW curve result is the curves
    table = "curves" if "curves" in getattr(result, "tables", {}) else None
    note = _nothing_to_draw(result, table, "survival-curve figure")
    if note is not None:
        return note
    curves = result.tables["curves"] if table else result.summary
    arms = list(dict.fromkeys(curves["arm"]))
    arm = arm or arms[0]
    cur = curves[curves["arm"] == arm]
    ax = get_ax(ax, figsize=(7.0, 5.0))
    groups = list(dict.fromkeys(cur["group"]))
    for i, g in enumerate(groups):
        c = cur[cur["group"] == g].sort_values("time")
        # an EffectResult's curves table calls the curve `survival`; an IPW curve summary `estimate`
        s = c["survival"] if "survival" in c else c["estimate"]
        ax.step(c["time"], s, where="post", color=f"C{i}", label=str(g))
        ax.fill_between(
            c["time"], c["ci_lower"], c["ci_upper"], step="post", color=f"C{i}", alpha=0.2, lw=0
        )
    ax.set_xlabel("tenure (months)")
    ax.set_ylabel("retained (survival)")
    method = str(cur["method"].iloc[0]) if "method" in cur else ""
    ax.set_title(f"{arm} vs control ({method})")
    ax.legend(loc="lower left")
    if at_risk:
        ticks = np.linspace(0, float(cur["time"].max()), 5)
        lines = []
        for g in groups:
            c = cur[cur["group"] == g].sort_values("time")
            pos = np.clip(np.searchsorted(c["time"].to_numpy(), ticks, side="right") - 1, 0, None)
            lines.append(
                f"{g}: " + "  ".join(f"{int(v):,}" for v in c["n_at_risk"].to_numpy()[pos])
            )
        ax.text(
            0.0,
            -0.2,
            "at risk (unweighted) at "
            + ", ".join(f"{t:.0f}" for t in ticks)
            + " months\n"
            + "\n".join(lines),
            transform=ax.transAxes,
            fontsize=8,
            va="top",
        )
    return ax


def plot_love(result, ax=None, threshold: float = 0.1):
    """Love plot: |SMD| before and after weighting for every covariate (and contrast)."""
    note = _nothing_to_draw(result, None, "love plot")
    if note is not None:
        return note
    df = result.summary
    ax = get_ax(ax, figsize=(7.0, max(3.0, 0.28 * len(df) + 1)))
    labels = [
        f"{c} ({k.split(' vs ')[0]})" if df["contrast"].nunique() > 1 else c
        for c, k in zip(df["covariate"], df["contrast"])
    ]
    y = np.arange(len(df))
    ax.scatter(
        df["smd_before"].abs(), y, marker="o", facecolors="none", edgecolors="C3", label="before"
    )
    ax.scatter(df["smd_after"].abs(), y, marker="o", color="C0", label="after weighting")
    ax.axvline(threshold, color="grey", ls="--", lw=1)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel("|standardised mean difference|")
    ax.legend(loc="lower right")
    return ax


def plot_overlap(result, ax=None, contrast: str | None = None, bins: int = 40):
    """Histograms of the propensity score by observed arm (overlap / positivity)."""
    note = _nothing_to_draw(result, "scores", "propensity-overlap figure")
    if note is not None:
        return note
    scores = result.tables["scores"] if "scores" in result.tables else None
    if scores is None:
        raise ValueError("the result holds no propensity scores")
    contrast = contrast or scores["contrast"].iloc[0]
    s = scores[scores["contrast"] == contrast]
    ax = get_ax(ax)
    edges = np.linspace(0, 1, bins + 1)
    ax.hist(
        s.loc[s["treated"] == 1, "propensity"],
        bins=edges,
        alpha=0.5,
        density=True,
        color="C1",
        label=f"{contrast}",
    )
    ax.hist(
        s.loc[s["treated"] == 0, "propensity"],
        bins=edges,
        alpha=0.5,
        density=True,
        color="C0",
        label="control",
    )
    ax.set_xlabel(f"propensity P({contrast} | confounders)")
    ax.set_ylabel("density")
    ax.legend()
    return ax


def plot_hte(result, ax=None, estimand: str = "survival_difference"):
    """Forest plot of the effect by segment level."""
    note = _nothing_to_draw(result, None, "figure by segment")
    if note is not None:
        return note
    df = result.summary[result.summary["estimand"] == estimand].reset_index(drop=True)
    ax = get_ax(ax, figsize=(7.0, max(3.0, 0.3 * len(df) + 1)))
    y = np.arange(len(df))[::-1]
    ax.errorbar(
        df["estimate"],
        y,
        xerr=[df["estimate"] - df["ci_lower"], df["ci_upper"] - df["estimate"]],
        fmt="o",
        color="C0",
        capsize=3,
    )
    ax.axvline(0, color="grey", lw=1)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{s}: {lv}" for s, lv in zip(df["segment"], df["level"])], fontsize=8)
    ax.set_xlabel(estimand.replace("_", " "))
    return ax


def plot_qini(result, ax=None):
    """Qini curve(s) against random targeting."""
    note = _nothing_to_draw(result, "curve", "Qini curve")
    if note is not None:
        return note
    cur = result.tables["curve"]
    ax = get_ax(ax)
    for i, (arm, c) in enumerate(cur.groupby("arm", sort=False)):
        ax.plot(c["fraction"], c["qini"], color=f"C{i}", label=f"{arm} (model)")
        ax.plot(c["fraction"], c["random"], color=f"C{i}", ls="--", lw=1, label=f"{arm} (random)")
    ax.set_xlabel("fraction of customers targeted (highest predicted uplift first)")
    ax.set_ylabel("incremental retained customers per customer")
    ax.legend()
    return ax


def plot_winback(result, ax=None):
    """Cumulative reactivation after churn by contact group (1 - KM)."""
    note = _nothing_to_draw(result, "curves", "win-back figure")
    if note is not None:
        return note
    cur = result.tables["curves"]
    ax = get_ax(ax)
    if cur.empty:
        msg = "; ".join(result.warnings) or "no win-back data"
        ax.text(0.5, 0.5, msg, ha="center", va="center", wrap=True, transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    for i, (g, c) in enumerate(cur.groupby("group", sort=False)):
        ax.step(c["time"], c["reactivated"], where="post", color=f"C{i}", label=str(g))
    ax.axvline(result.meta.get("window", 3), color="grey", ls="--", lw=1)
    ax.set_xlabel("months since churn")
    ax.set_ylabel("reactivated (cumulative)")
    ax.legend()
    return ax


def plot_forest(result, ax=None, estimand: str = "rmst_difference"):
    """Estimates of one estimand across arms and methods with CIs."""
    note = _nothing_to_draw(result, None, "forest plot")
    if note is not None:
        return note
    df = result.summary[result.summary["estimand"] == estimand].reset_index(drop=True)
    ax = get_ax(ax, figsize=(7.0, max(2.5, 0.35 * len(df) + 1)))
    y = np.arange(len(df))[::-1]
    ax.errorbar(
        df["estimate"],
        y,
        xerr=[df["estimate"] - df["ci_lower"], df["ci_upper"] - df["estimate"]],
        fmt="o",
        capsize=3,
    )
    ax.axvline(1 if "ratio" in estimand else 0, color="grey", lw=1)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{a} ({m})" for a, m in zip(df["arm"], df["method"])], fontsize=8)
    ax.set_xlabel(estimand.replace("_", " "))
    return ax
