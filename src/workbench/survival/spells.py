"""Win-back and second spells: the probability of return after churn, first vs second spell.

* :func:`winback_curve`: ``P(returned by u months after churn)``, one minus the Kaplan-Meier curve
  of the ``churned -> reactivated`` transition on time since churn (delayed entry for churn stays
  first seen later), by group (e.g. contacted or not);
* :func:`spell_comparison`: survival of first and second spells on time since the spell began,
  and the hazard ratio of a second spell (Cox, robust SE by customer, who can contribute both).

Both take the multi-state rows of :func:`workbench.data.events.state_table`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..data.events import CENSORED
from ..exceptions import DataValidationError
from ..results import Result, standard_meta
from ._msdata import _frame, _rows, _state_entry

__all__ = [
    "EntryComparisonResult",
    "SpellComparisonResult",
    "WinbackResult",
    "entry_comparison",
    "spell_comparison",
    "winback_curve",
]


def _stays(data, id_col, start_col, stop_col, from_col, to_col, state: str) -> pd.DataFrame:
    """One row per stay in ``state``: time since entering it (entry > 0 when first seen later)."""
    df = _frame(data)
    start, stop, frm, to, ids, states = _rows(
        data, id_col, start_col, stop_col, from_col, to_col, None, CENSORED
    )
    if state not in states:
        raise DataValidationError(
            f"no rows in state {state!r}; states found: {states}.",
            column=from_col,
            rule="state present",
        )
    m = frm == states.index(state)
    entered = _state_entry(ids[m], start[m], stop[m])
    stay = pd.DataFrame(
        {
            "_id": df[id_col].to_numpy()[m],
            "_k": ids[m],
            "entered": entered,
            "entry": start[m] - entered,
            "time": stop[m] - entered,
            "to": np.asarray(states + [CENSORED])[to[m]],
        }
    )
    g = stay.sort_values(["_k", "entered", "time"]).groupby(["_k", "entered"], sort=False)
    out = g.agg(
        id=("_id", "first"), entry=("entry", "min"), time=("time", "max"), to=("to", "last")
    )
    return out.reset_index(drop=True)


class WinbackResult(Result):
    """Probability of having returned by ``u`` months after churn (see :func:`winback_curve`)."""

    title = "Win-back: probability of return by time since churn"
    key = "group"

    def plot(self, ax=None, **kwargs):
        from ..plotting.histories import plot_winback

        return plot_winback(self, ax=ax, **kwargs)


def winback_curve(
    data: Any,
    *,
    id_col: str,
    group_col: str | None = None,
    start_col: str = "start",
    stop_col: str = "stop",
    from_col: str = "from_state",
    to_col: str = "to_state",
    times: Sequence[float] = (1, 3, 6, 12),
    alpha: float = 0.05,
) -> WinbackResult:
    """Win-back curve: ``P(returned by u months after churn)``, one minus a Kaplan-Meier curve.

    The clock starts at each churn (``churned`` stays); a return (``-> reactivated``) is the event,
    the analysis date censors; stays first seen after the churn enter late (delayed entry).

    Returns
    -------
    WinbackResult
        ``summary``: ``group``, ``time``, ``estimate`` (probability of return), ``ci_lower``,
        ``ci_upper``, ``at_risk``; ``tables['curves']`` the full step curves.
    """
    from .km import kaplan_meier

    stays = _stays(data, id_col, start_col, stop_col, from_col, to_col, "churned")
    stays["returned"] = (stays["to"] == "reactivated").astype(int)
    if group_col is not None:
        grp = _frame(data).drop_duplicates(id_col).set_index(id_col)[group_col]
        stays[group_col] = stays["id"].map(grp).to_numpy()
    km = kaplan_meier(
        stays,
        duration_col="time",
        event_col="returned",
        entry_col="entry",
        group_col=group_col,
        alpha=alpha,
    )
    at = km.at(times)
    summary = pd.DataFrame(
        {
            "group": at["group"],
            "time": at["time"],
            "estimate": 1 - at["survival"],
            "ci_lower": 1 - at["ci_upper"],
            "ci_upper": 1 - at["ci_lower"],
            "at_risk": at["at_risk"],
        }
    )
    cur = km.curves.assign(
        estimate=1 - km.curves["survival"],
        ci_lower=1 - km.curves["ci_upper"],
        ci_upper=1 - km.curves["ci_lower"],
    )
    meta = standard_meta(
        data,
        n=int(len(stays)),
        events=int(stays["returned"].sum()),
        alpha=km.meta["alpha"],
        method="1 - Kaplan-Meier of the time from churn to return (delayed entry allowed)",
        group_col=group_col,
    )
    return WinbackResult(
        summary,
        meta,
        tables={"curves": cur[["group", "time", "at_risk", "estimate", "ci_lower", "ci_upper"]]},
        warnings=km.warnings,
    )


class SpellComparisonResult(Result):
    """First vs second spell (see :func:`spell_comparison`)."""

    title = "First vs second spell: survival since the spell began"
    key = "term"


def spell_comparison(
    data: Any,
    *,
    id_col: str,
    start_col: str = "start",
    stop_col: str = "stop",
    from_col: str = "from_state",
    to_col: str = "to_state",
    times: Sequence[float] = (6, 12, 24),
    covariates: Sequence[str] = (),
    alpha: float = 0.05,
) -> SpellComparisonResult:
    """Do won-back customers churn faster the second time? Survival on time since the spell began.

    First spells are the ``active`` stays, second spells the ``reactivated`` stays, each on its
    own clock (delayed entry for stays first seen late). ``summary`` holds the hazard ratio of a
    second spell from a Cox model (robust SE by customer, who can contribute both spells), adjusted
    for ``covariates``; ``tables['survival']`` the Kaplan-Meier survival of each spell at ``times``.
    """
    from .cox import fit_cox
    from .km import kaplan_meier

    df = _frame(data)
    parts = []
    for k, state in enumerate(("active", "reactivated"), start=1):
        st = _stays(data, id_col, start_col, stop_col, from_col, to_col, state)
        st["spell"] = "first" if k == 1 else "second"
        st["second_spell"] = k - 1
        st["churned"] = st["to"].isin(["churned", "churned_again"]).astype(int)
        parts.append(st)
    stays = pd.concat(parts, ignore_index=True)
    if covariates:
        cov = df.drop_duplicates(id_col).set_index(id_col)[list(covariates)]
        stays = stays.join(cov, on="id")
    cox = fit_cox(
        stays,
        duration_col="time",
        event_col="churned",
        entry_col="entry",
        cluster_col="id",
        covariates=["second_spell", *covariates],
        alpha=alpha,
    )
    km = kaplan_meier(
        stays,
        duration_col="time",
        event_col="churned",
        entry_col="entry",
        group_col="spell",
        alpha=alpha,
    )
    meta = standard_meta(
        data,
        n=int(stays["id"].nunique()),
        events=int(stays["churned"].sum()),
        alpha=cox.meta["alpha"],
        method="Cox on time since the spell began, second-spell indicator, robust SE by "
        "customer; Kaplan-Meier per spell (delayed entry)",
        spells=stays["spell"].value_counts().to_dict(),
    )
    return SpellComparisonResult(
        cox.summary,
        meta,
        tables={"survival": km.at(times), "curves": km.curves},
        warnings=cox.warnings + km.warnings,
    )


class EntryComparisonResult(Result):
    """Kaplan-Meier of a snapshot with and without delayed entry (see :func:`entry_comparison`)."""

    title = "Snapshot: delayed entry vs followed-from-joining (naive)"
    key = "time"

    def plot(self, ax=None, **kwargs):
        from ..plotting.histories import plot_entry_comparison

        return plot_entry_comparison(self.naive, self.entry, ax=ax, **kwargs)


def entry_comparison(
    data: Any,
    *,
    duration_col: str | None = None,
    event_col: str | None = None,
    entry_col: str,
    times: Sequence[float] = (6, 12, 24, 48),
    alpha: float = 0.05,
) -> EntryComparisonResult:
    """The size of the snapshot mistake: survival with delayed entry beside the naive curve.

    Returns
    -------
    EntryComparisonResult
        ``summary``: ``time``, ``estimate`` (with entry), ``ci_lower``, ``ci_upper``, ``at_risk``,
        ``naive``, ``naive_ci_lower``, ``naive_ci_upper``, ``naive_at_risk`` and ``difference``
        (naive minus entry, in survival probability); ``.naive`` / ``.entry`` the two fits.
    """
    from .km import kaplan_meier

    kw = dict(duration_col=duration_col, event_col=event_col, alpha=alpha, times=list(times))
    naive = kaplan_meier(data, **kw)
    entry = kaplan_meier(data, entry_col=entry_col, **kw)
    a, b = naive.tables["at_times"], entry.tables["at_times"]
    summary = pd.DataFrame(
        {
            "time": b["time"].to_numpy(float),
            "estimate": b["survival"].to_numpy(),
            "ci_lower": b["ci_lower"].to_numpy(),
            "ci_upper": b["ci_upper"].to_numpy(),
            "at_risk": b["at_risk"].to_numpy(),
            "naive": a["survival"].to_numpy(),
            "naive_ci_lower": a["ci_lower"].to_numpy(),
            "naive_ci_upper": a["ci_upper"].to_numpy(),
            "naive_at_risk": a["at_risk"].to_numpy(),
        }
    )
    summary["difference"] = summary["naive"] - summary["estimate"]
    meta = standard_meta(
        data,
        n=entry.meta["n"],
        events=entry.meta["events"],
        alpha=entry.meta["alpha"],
        method="Kaplan-Meier with delayed entry vs without (R survfit(Surv(entry, t, e)))",
        exclusions=entry.meta.get("exclusions"),
        entry_col=entry_col,
    )
    res = EntryComparisonResult(summary, meta, warnings=naive.warnings + entry.warnings)
    res.naive, res.entry = naive, entry
    return res
