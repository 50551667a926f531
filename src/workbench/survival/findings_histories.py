"""Key findings of a customer-history analysis (notebook 06), composed from the results.

Each sentence takes its numbers from a result object; interval labels come from ``alpha``
(:func:`workbench.findings.ci_label`); decision words ("faster", "higher") only where the interval
excludes no effect; the caveats raised by the analysis travel with the sentence they qualify.
"""

from __future__ import annotations

import numpy as np

from ..findings import DETAIL, HEADLINE, MAIN, Finding, ci_label

__all__ = ["key_findings"]


def _pct(x: float) -> str:
    return f"{100 * float(x):.1f}%"


def _group_words(col: str, level) -> str:
    """The group after "churned customers": a 0/1 flag reads " contacted" / " not contacted"."""
    name = str(col).replace("_", " ")
    if str(level) in ("1", "1.0", "True", "true"):
        return f" {name}"
    if str(level) in ("0", "0.0", "False", "false"):
        return f" not {name}"
    return f" with {name} {level}"


def _ratio_sentence(term: str, hr: float, lo: float, hi: float, label: str, what: str) -> str:
    # observational histories: associations, never causal verbs
    if lo > 1 or hi < 1:
        verdict = f"goes with a churn hazard {hr:.2f} times as high"
    else:
        verdict = f"shows no clear association with the churn hazard (hazard ratio {hr:.2f})"
    return f"{what} {verdict} ({label} {lo:.2f} to {hi:.2f})."


def key_findings(
    *,
    comparison=None,
    time_varying=None,
    occupation=None,
    winback=None,
    spells=None,
    horizon: float = 12.0,
    unit: str = "months",
    terms: dict[str, str] | None = None,
) -> list[Finding]:
    """Findings from :func:`~workbench.survival.spells.entry_comparison`, a counting-process
    :func:`~workbench.survival.fit_cox`, :func:`~workbench.survival.multistate.aalen_johansen`,
    :func:`~workbench.survival.spells.winback_curve` and ``spell_comparison`` (any may be None).

    ``terms`` maps a Cox term to the words that describe one unit of it (e.g.
    ``{"sat_drop": "Each point lower in the latest satisfaction survey"}``).
    """
    out: list[Finding] = []
    if comparison is not None:
        s = comparison.summary
        row = s.iloc[int(np.argmin(np.abs(s["time"].to_numpy() - horizon)))]
        label = ci_label(comparison.meta["alpha"])
        cav = tuple(comparison.warnings)
        if row["difference"] > 0:
            verdict = "overstates"
        elif row["difference"] < 0:
            verdict = "understates"
        else:
            verdict = "matches"
        out.append(
            Finding(
                f"Survival to {row['time']:g} {unit} is {_pct(row['estimate'])} ({label} "
                f"{_pct(row['ci_lower'])} to {_pct(row['ci_upper'])}) when customers enter the "
                f"risk sets at the start of the observation window; analysing the snapshot as if "
                f"everyone had been followed from joining {verdict} it at {_pct(row['naive'])} "
                f"({100 * row['difference']:+.1f} percentage points).",
                importance=HEADLINE,
                caveats=cav,
                section="Snapshot vs history",
            )
        )
    if time_varying is not None:
        label = ci_label(time_varying.meta["alpha"])
        for r in time_varying.summary.itertuples():
            what = (terms or {}).get(r.term, f"One unit more of {r.term}")
            out.append(
                Finding(
                    _ratio_sentence(
                        r.term, r.hazard_ratio, r.hr_ci_lower, r.hr_ci_upper, label, what
                    )
                    + " Robust interval by customer; covariates as last observed before each "
                    "interval.",
                    importance=MAIN,
                    caveats=tuple(time_varying.warnings),
                    section="Time-varying covariates",
                )
            )
    if winback is not None:
        label = ci_label(winback.meta["alpha"])
        s = winback.summary
        s = s[np.isclose(s["time"], s["time"][np.abs(s["time"] - horizon).idxmin()])]
        parts = [
            f"{_pct(r.estimate)} of churned customers"
            + ("" if r.group == "all" else _group_words(winback.meta["group_col"], r.group))
            + f" ({label} {_pct(r.ci_lower)} to {_pct(r.ci_upper)})"
            for r in s.itertuples()
        ]
        out.append(
            Finding(
                f"Within {s['time'].iloc[0]:g} {unit} of churning, "
                + "; ".join(parts)
                + " came back.",
                importance=MAIN,
                caveats=tuple(winback.warnings),
                section="Win-back",
            )
        )
    if spells is not None:
        r = spells.summary.set_index("term").loc["second_spell"]
        label = ci_label(spells.meta["alpha"])
        if r["hr_ci_lower"] > 1:
            verdict = f"churn {r['hazard_ratio']:.2f} times as fast in their second spell"
        elif r["hr_ci_upper"] < 1:
            verdict = (
                f"churn more slowly in their second spell (hazard ratio {r['hazard_ratio']:.2f})"
            )
        else:
            verdict = (
                "show no clear difference between first and second spell (hazard ratio "
                f"{r['hazard_ratio']:.2f})"
            )
        out.append(
            Finding(
                f"Won-back customers {verdict} ({label} {r['hr_ci_lower']:.2f} to {r['hr_ci_upper']:.2f}),"
                " on time since the spell began.",
                importance=MAIN,
                caveats=tuple(spells.warnings),
                section="Second spells",
            )
        )
    if occupation is not None:
        e = occupation.tables["expected_time"]
        label = ci_label(occupation.meta["alpha"])
        parts = [
            f"{r.estimate:.1f} {unit} {r.state.replace('_', ' ')} ({label} {r.ci_lower:.1f} to "
            f"{r.ci_upper:.1f})"
            for r in e.itertuples()
        ]
        out.append(
            Finding(
                f"Of the first {e['tau'].iloc[0]:g} {unit} after joining, a customer spends on "
                "average " + ", ".join(parts) + ".",
                importance=DETAIL,
                section="Multi-state",
            )
        )
    return out
