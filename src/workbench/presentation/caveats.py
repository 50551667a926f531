"""Caveats in words: each warning class a run can raise, with a plain title and the remedy.

The report's caveats section groups the warnings a run raised by class, shows the title and the
remedy once per class, and lists the distinct messages under it (a message raised three times is
listed once, "3 times"). Unknown classes fall back to their name in words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["CAVEATS", "caveat_title", "group_caveats"]

#: class name -> (plain title, what it means for the reader and what to do)
CAVEATS: dict[str, tuple[str, str]] = {
    "ProportionalHazardsWarning": (
        "A hazard ratio changes with tenure",
        "The single hazard ratio is an average over tenure. Read the survival curves and the "
        "difference in mean tenure instead, or re-run with the covariate as a stratum.",
    ),
    "ConvergenceWarning": (
        "A model did not converge",
        "Its estimates are not reliable as they stand. Use fewer covariates, merge rare levels, "
        "or use more data.",
    ),
    "SeparationWarning": (
        "An outcome is perfectly predicted in some group",
        "Ordinary estimates run to infinity there; the penalised (Firth) fit or merged levels "
        "give finite, usable numbers.",
    ),
    "ExtremeWeightsWarning": (
        "A few customers carry much of the weight",
        "The adjusted comparison leans on them and is less stable. Trim the weights (trim=0.01) "
        "or restrict to customers with comparable counterparts.",
    ),
    "PositivityWarning": (
        "Some customers have no comparable counterpart",
        "For them the comparison is an extrapolation. Restrict the analysis to the overlap or "
        "trim extreme propensities.",
    ),
    "ExtrapolationWarning": (
        "A number reaches beyond the data's follow-up",
        "It relies on a model's extrapolation rather than on observed customers; treat it as a "
        "scenario, or shorten the horizon.",
    ),
    "SmallSampleWarning": (
        "Too few customers or churners for part of the analysis",
        "Those estimates are imprecise or were skipped. Merge small groups or use more data.",
    ),
    "CollinearityWarning": (
        "Two inputs carry the same information",
        "One was dropped or the fit is unstable; their separate effects cannot be told apart.",
    ),
    "RowsExcludedWarning": (
        "Some customers were left out of an analysis",
        "The message says how many and why; check that the exclusion matches the question.",
    ),
    "DataQualityWarning": (
        "A data oddity was kept",
        "The analysis ran; check the data at the source if the oddity is unexpected.",
    ),
    "UnavailableWarning": (
        "An analysis could not be done on these data",
        "The data lack a column it needs; declare it in the data spec to get this part.",
    ),
    "NegativeControlWarning": (
        "The negative-control check points to hidden differences between the groups",
        "An effect appeared where none should be: part of the estimated effect is likely "
        "confounding. Add confounders or treat the effect as an upper bound.",
    ),
    "ConfoundedEffectWarning": (
        "The offer or programme was not assigned at random",
        "Differences are associations after adjustment, not proven effects. A randomised test "
        "would settle it.",
    ),
    "WorkbenchWarning": ("A caveat of the analysis", "See the message."),
}

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def caveat_title(category: str) -> tuple[str, str]:
    """``(title, remedy)`` of a warning class name; unknown names in words.

    Examples
    --------
    >>> caveat_title("ProportionalHazardsWarning")[0]
    'A hazard ratio changes with tenure'
    >>> caveat_title("WeirdThingWarning")
    ('Weird thing', '')
    """
    if category in CAVEATS:
        return CAVEATS[category]
    words = _CAMEL.sub(" ", re.sub(r"Warning$", "", str(category))).strip().lower()
    return (words[:1].upper() + words[1:] or "Caveat", "")


def group_caveats(warnings: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Warnings (``category``, ``message``, ``count``) grouped by class in first-seen order:
    ``[{category, title, remedy, messages: [(message, count)]}]``, each distinct message once.

    Examples
    --------
    >>> g = group_caveats([{"category": "SmallSampleWarning", "message": "a"},
    ...                    {"category": "SmallSampleWarning", "message": "a", "count": 2}])
    >>> g[0]["messages"]
    [('a', 3)]
    """
    groups: dict[str, dict[str, Any]] = {}
    for w in warnings:
        cat = str(w.get("category") or "WorkbenchWarning")
        msg = " ".join(str(w.get("message", "")).split())
        count = int(w.get("count", 1) or 1)
        g = groups.get(cat)
        if g is None:
            title, remedy = caveat_title(cat)
            g = groups[cat] = {"category": cat, "title": title, "remedy": remedy, "messages": {}}
        g["messages"][msg] = g["messages"].get(msg, 0) + count
    return [{**g, "messages": list(g["messages"].items())} for g in groups.values()]
