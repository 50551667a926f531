"""Input of the multi-state estimators: ``(start, stop]`` rows with from / to states, checked."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..data.events import STATES
from ..exceptions import DataValidationError, ParameterError


def _frame(data: Any) -> pd.DataFrame:
    if hasattr(data, "frame") and hasattr(data, "spec"):
        return data.frame
    if isinstance(data, pd.DataFrame):
        return data
    raise ParameterError(
        f"`data` must be a pandas DataFrame of (start, stop] rows or a workbench Dataset, got "
        f"{type(data).__name__}. Build the rows with multistate.state_table(...)."
    )


def _rows(data, id_col, start_col, stop_col, from_col, to_col, states, censored):
    df = _frame(data)
    cols = {
        "id_col": id_col,
        "start_col": start_col,
        "stop_col": stop_col,
        "from_col": from_col,
        "to_col": to_col,
    }
    for arg, c in cols.items():
        if c not in df.columns:
            raise DataValidationError(
                f"`{arg}`={c!r} is not a column of the data; columns received: "
                f"{list(map(str, df.columns))[:20]}.",
                column=str(c),
                rule="column present",
            )
    start = pd.to_numeric(df[start_col], errors="coerce").to_numpy(float)
    stop = pd.to_numeric(df[stop_col], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(start) | ~np.isfinite(stop) | ~(start < stop)
    if bad.any():
        ex = df[id_col].to_numpy()[bad][:5].tolist()
        raise DataValidationError(
            f"`{start_col}` must be before `{stop_col}` on every row (rows at risk on (start, stop]); "
            f"{int(bad.sum()):,} row(s) are not (first customer ids: {ex}). Drop zero-length rows "
            "and check that the two columns are not swapped.",
            column=stop_col,
            rule="start < stop",
            n_rows=int(bad.sum()),
            examples=ex,
        )
    frm = df[from_col].astype(str).to_numpy()
    to = df[to_col].astype(str).to_numpy()
    if states is None:
        seen = list(dict.fromkeys(list(frm) + [t for t in to if t != censored]))
        states = [s for s in STATES if s in seen] + [s for s in seen if s not in STATES]
    states = list(states)
    code = {s: j for j, s in enumerate(states)}
    unknown = sorted(set(frm) - set(code)) + sorted(set(to) - set(code) - {censored})
    if unknown:
        raise DataValidationError(
            f"states {unknown} are not among `states`={states} (censoring label {censored!r}); "
            "declare every state, or label rows without a transition as the censoring label.",
            column=to_col,
            rule="known states",
        )
    f = np.array([code[s] for s in frm], dtype=np.int64)
    t = np.array([code.get(s, -1) for s in to], dtype=np.int64)
    same = t == f
    if same.any():
        ex = df[id_col].to_numpy()[same][:5].tolist()
        raise DataValidationError(
            f"{int(same.sum()):,} row(s) move from a state to the same state (first customer ids: "
            f"{ex}); a row ends in a transition to another state or is censored ({censored!r}).",
            column=to_col,
            rule="transition to another state",
        )
    ids, _ = pd.factorize(df[id_col])
    return start, stop, f, t, ids, states


def _state_entry(ids: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Time each row's stay in its state began (consecutive rows of a customer join up)."""
    order = np.lexsort((start, ids))
    i, s0, s1 = ids[order], start[order], stop[order]
    new = np.r_[True, (i[1:] != i[:-1]) | (s0[1:] != s1[:-1])]
    first = np.maximum.accumulate(np.where(new, np.arange(len(i)), 0))
    out = np.empty(len(ids))
    out[order] = s0[first]
    return out
