"""Spells -> multi-state rows (active, churned, reactivated, churned again) on tenure since joining."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError
from .events import CENSORED, STATES, UNITS, build_intervals

__all__ = ["state_table"]


def state_table(
    spells: pd.DataFrame,
    *,
    id_col: str,
    start_col: str,
    stop_col: str,
    event_col: str,
    analysis_time: Any,
    join_col: str | None = None,
    unit: str = "months",
) -> pd.DataFrame:
    """Spells -> multi-state ``(start, stop]`` rows on tenure since joining.

    Each customer has one or two spells (the second after a win-back). The rows are: the first spell
    in ``active`` (to ``churned`` or censored), the time after a churn in ``churned`` (to
    ``reactivated`` at the start of the second spell, or censored at ``analysis_time``), the second
    spell in ``reactivated`` (to ``churned_again`` or censored). Dates become tenure in ``unit``
    since ``join_col`` (default the first spell's start), with the rules of
    :func:`workbench.data.events.build_intervals`, which also validates the spells first.

    Returns
    -------
    DataFrame
        ``id_col``, ``start``, ``stop``, ``from_state``, ``to_state``, ``spell``.

    Raises
    ------
    DataValidationError
        The spell checks of ``build_intervals``; a customer with a third spell (the four-state
        model ends at the second churn).
    """
    rows = build_intervals(
        spells,
        id_col=id_col,
        start_col=start_col,
        stop_col=stop_col,
        event_col=event_col,
        join_col=join_col,
        analysis_time=analysis_time,
        unit=unit,
    )
    third = rows["spell"] > 2
    if third.any():
        ex = rows.loc[third, id_col].unique()[:5].tolist()
        raise DataValidationError(
            f"{rows.loc[third, id_col].nunique():,} customer(s) have a third spell (first customer "
            f"ids: {ex}); the states {STATES} end at the second churn. Keep the first two spells "
            "or analyse later spells separately.",
            column=start_col,
            rule="at most two spells",
        )
    ev = rows[event_col].to_numpy() > 0
    sp = rows["spell"].to_numpy()
    frm = np.where(sp == 1, "active", "reactivated")
    to = np.where(ev, np.where(sp == 1, "churned", "churned_again"), CENSORED)
    out = pd.DataFrame(
        {
            id_col: rows[id_col].to_numpy(),
            "start": rows["start"].to_numpy(),
            "stop": rows["stop"].to_numpy(),
            "from_state": frm,
            "to_state": to,
            "spell": sp,
        }
    )
    # the churned stay: from the first churn to the second spell's start or the analysis time
    first = out[(out["spell"] == 1) & (out["to_state"] == "churned")]
    second = out[out["spell"] == 2].set_index(id_col)["start"]
    horizon = _horizon(
        spells,
        id_col=id_col,
        start_col=start_col,
        join_col=join_col,
        analysis_time=analysis_time,
        unit=unit,
    )
    back = first[id_col].map(second)
    gap = pd.DataFrame(
        {
            id_col: first[id_col].to_numpy(),
            "start": first["stop"].to_numpy(),
            "stop": back.fillna(first[id_col].map(horizon)).to_numpy(float),
            "from_state": "churned",
            "to_state": np.where(back.notna(), "reactivated", CENSORED),
            "spell": 1,
        }
    )
    gap = gap[gap["stop"] > gap["start"]]
    out = pd.concat([out, gap], ignore_index=True)
    return out.sort_values([id_col, "start"], kind="stable").reset_index(drop=True)


def _horizon(spells, *, id_col, start_col, join_col, analysis_time, unit) -> pd.Series:
    """Tenure at ``analysis_time`` of each customer (same rule as ``build_intervals``)."""
    origin = spells.groupby(id_col)[join_col or start_col].min()
    if pd.api.types.is_datetime64_any_dtype(origin):
        days = (pd.Timestamp(analysis_time) - origin).dt.total_seconds() / 86400.0
        return days / UNITS[unit]
    return float(analysis_time) - origin.astype(float)
