"""Findings: plain-language sentences composed from results, and the shape reports read them in.

A notebook records its key findings as a list (``record("key_findings", findings)``). Each entry is a
:class:`Finding` (stored as a dict by ``to_record()``) or, from older notebooks, a plain string. The
report shows the most important ones in its summary box, each with the caveats that qualify it, and
the full list in a section below.

Composition rules every ``key_findings`` function follows (see ``docs``/the issue tracker):

* every number comes from the result the sentence describes; nothing is a literal sentence;
* interval labels come from ``alpha`` (:func:`ci_label`), never a literal "95%";
* decision words ("supported", "differs", "gained") only where the interval and the adjusted p
  agree; causal verbs only for randomised designs;
* a caveat that qualifies a finding travels with it (``caveats``), in words, with its remedy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Finding", "ci_label", "as_finding"]

#: importance levels: 1 = headline a manager must see, 2 = main result, 3 = detail / robustness
HEADLINE, MAIN, DETAIL = 1, 2, 3


@dataclass(frozen=True)
class Finding:
    """One key-finding sentence with what a reader needs to weigh it.

    Parameters
    ----------
    text : str
        The sentence, composed from a result (number, unit, interval labelled from alpha).
    importance : int
        1 headline, 2 main result, 3 detail or robustness check. Reports rank by it (stable order
        within a level) and show at most eight in the summary box.
    caveats : tuple of str
        Caveats that qualify this finding, in words with the remedy (e.g. "not randomised: the
        difference is an association after weighting, not an effect").
    section : str, optional
        The report section the finding comes from (e.g. "Cox model"), for linking.
    kind : str
        ``"finding"`` or ``"caveat"`` (a sentence that is itself a warning to the reader).

    Examples
    --------
    >>> f = Finding("Median tenure is 41 months (95% CI 39 to 43).", importance=1)
    >>> f.to_record()["importance"]
    1
    """

    text: str
    importance: int = MAIN
    caveats: tuple[str, ...] = field(default_factory=tuple)
    section: str | None = None
    kind: str = "finding"

    def __post_init__(self):
        if not isinstance(self.text, str) or not self.text.strip():
            raise ValueError(f"Finding.text must be a non-empty sentence, got {self.text!r}")
        if self.importance not in (HEADLINE, MAIN, DETAIL):
            raise ValueError(
                f"Finding.importance must be 1 (headline), 2 (main) or 3 (detail), got {self.importance!r}"
            )
        object.__setattr__(self, "caveats", tuple(str(c) for c in self.caveats))

    def to_record(self) -> dict[str, Any]:
        """JSON-safe dict: ``text``, ``importance``, ``caveats``, ``section``, ``kind``."""
        return {
            "text": self.text,
            "importance": self.importance,
            "caveats": list(self.caveats),
            "section": self.section,
            "kind": self.kind,
        }

    def __str__(self) -> str:
        return self.text


def as_finding(entry: Any) -> Finding:
    """A :class:`Finding` from a Finding, its record dict, or a plain string (importance 2)."""
    if isinstance(entry, Finding):
        return entry
    if isinstance(entry, dict):
        return Finding(
            text=str(entry.get("text", "")),
            importance=int(entry.get("importance", MAIN) or MAIN),
            caveats=tuple(entry.get("caveats") or ()),
            section=entry.get("section"),
            kind=str(entry.get("kind", "finding")),
        )
    return Finding(text=str(entry))


def ci_label(alpha: float) -> str:
    """The interval label for ``alpha``: ``0.05 -> "95% CI"``, ``0.1 -> "90% CI"``, ``0.025 -> "97.5% CI"``.

    Examples
    --------
    >>> ci_label(0.1)
    '90% CI'
    >>> ci_label(0.025)
    '97.5% CI'
    """
    a = float(alpha)
    if not (0.0 < a < 1.0) or math.isnan(a):
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    level = round(100.0 * (1.0 - a), 6)
    txt = f"{level:.6f}".rstrip("0").rstrip(".")
    return f"{txt}% CI"
