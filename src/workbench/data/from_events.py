"""``workbench data from-events``: a role spec's columns -> :func:`build_intervals` on files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import ParameterError
from .events import UNITS, build_intervals

__all__ = ["build_from_spec", "register_cli"]


def build_from_spec(
    spells: Any,
    events: Any,
    spec: Any,
    *,
    out: str | Path | None = None,
    memory_limit: str = "3GB",
    sort: bool = False,
) -> pd.DataFrame | Path:
    """:func:`build_intervals` with the columns of a role spec (``workbench data from-events``).

    The spec's ``id``, ``event``, ``start`` (spell start), ``tenure`` (spell stop; missing = open),
    ``start_date`` (joining date, optional), ``analysis_date``, ``tenure_unit`` and ``event_log``
    (``time``, ``kind``, ``value`` columns of the log and the ``rules``) are used.

    Raises
    ------
    ParameterError
        The spec lacks ``start`` or ``event_log``, or its unit is weeks.
    """
    if not spec.start or not spec.event_log:
        raise ParameterError(
            "the spec for from-events needs `start` (the spell start column; `tenure` is the spell "
            "stop) and `event_log` ({time, kind, value, rules}); see data/README.md."
        )
    if spec.tenure_unit not in UNITS:
        raise ParameterError(
            f"from-events builds tenure in {tuple(UNITS)}; the spec says `tenure_unit: "
            f"{spec.tenure_unit}`."
        )
    log = spec.event_log
    return build_intervals(
        spells,
        events,
        id_col=spec.id,
        start_col=spec.start,
        stop_col=spec.tenure,
        event_col=spec.event,
        join_col=spec.start_date,
        rules=log["rules"],
        time_col=log.get("time", "time"),
        kind_col=log.get("kind", "kind"),
        value_col=log.get("value", "value"),
        analysis_time=spec.analysis_date,
        unit=spec.tenure_unit,
        out=out,
        memory_limit=memory_limit,
        sort=sort,
    )


def _cli_from_events(args) -> int:
    import time

    from .schema import RoleSpec

    spec = RoleSpec.from_yaml(args.spec)
    t0 = time.perf_counter()
    out = build_from_spec(
        args.spells, args.events, spec, out=args.out, memory_limit=args.memory_limit, sort=args.sort
    )
    print(
        f"wrote (start, stop] rows to {out} in {time.perf_counter() - t0:.1f} s "
        f"(rules: {spec.event_log['rules']})"
    )
    return 0


def register_cli(dsub) -> None:
    """Add ``workbench data from-events EVENTS --spec SPEC --spells SPELLS --out OUT``."""
    p = dsub.add_parser(
        "from-events",
        help="spells + a dated event log -> (start, stop] rows (tmerge rules, DuckDB)",
    )
    p.add_argument("events", help="event log (Parquet or CSV): id, time, kind, value")
    p.add_argument("--spec", required=True, help="YAML role spec with `start` and `event_log`")
    p.add_argument("--spells", required=True, help="spell table (Parquet or CSV)")
    p.add_argument("--out", required=True, help="Parquet file for the rows")
    p.add_argument("--memory-limit", default="3GB", help="DuckDB memory limit (spills beyond it)")
    p.add_argument("--sort", action="store_true", help="accept a log not sorted by id and time")
    p.set_defaults(func=_cli_from_events)
