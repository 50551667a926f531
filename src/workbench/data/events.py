"""Customer histories -> counting-process rows: spells plus dated events in, (start, stop] rows out.

:func:`build_intervals` is the workbench's ``tmerge`` (R ``survival``). It takes

* a **spell table**: one row per customer spell (a customer who churned and came back has two),
  with its start, its stop (missing = still active: censored at the analysis time) and whether
  it ended in churn; and
* an **event log** (long format): one row per dated event or measurement of a customer
  (``id``, ``time``, ``kind``, ``value``): survey scores, complaints, plan changes, payments;

and returns one row per ``(start, stop]`` interval in which every covariate is constant.

Rules (the same as ``tmerge``'s ``tdc`` and ``cumtdc``; checked row for row against R in
``tests/reference/histories``):

* each spell is cut at every event time strictly inside it (``start < time < stop``);
* ``"last"`` (``tdc``): the covariate on ``(a, b]`` is the value of the customer's latest event of
  that kind with ``time <= a`` (a measurement *at* ``a`` counts from ``a``; one before the spell,
  e.g. in the gap between two spells, is carried into it); before the first measurement it is
  missing (NaN), never invented;
* ``"count"`` (``cumtdc(time)``): the number of events of that kind with ``time <= a``;
* ``"sum"`` (``cumtdc(time, value)``): the sum of their values;
* the churn flag is 1 on the last interval of a spell that ended in churn, else 0;
* times are tenure in the unit of the inputs; with dates, tenure since the customer's joining
  date (``join_col``, else the start of the first spell) in ``unit`` (days, or months of
  30.4375 days).

One implementation serves frames in memory and files larger than memory: the work is SQL run by
DuckDB (pandas frames are scanned in place; Parquet / CSV paths are read in streaming fashion and
intermediate results spill to disk under ``memory_limit``).

Validation (a :class:`~workbench.exceptions.DataValidationError` naming the customer ids and the
fix): reversed or empty spells, overlapping spells of one customer, two open spells of one customer,
a spell that starts before the customer joined, spells or events after the analysis time, an
event log that is not sorted by customer and time (with ``sort=False``), events of unknown
customers, two values of one measurement at the same time.

References
----------
Therneau, T., Crowson, C. and Atkinson, E. (2024). Using time dependent covariates and time
dependent coefficients in the Cox model. Vignette of R package ``survival`` (``tmerge``).
Andersen, P. K. and Gill, R. D. (1982). Cox's regression model for counting processes: a large
sample study. Annals of Statistics 10, 1100-1120.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import DAYS_PER_MONTH
from ..exceptions import DataValidationError, ParameterError

__all__ = ["CENSORED", "RULES", "STATES", "build_intervals", "state_table"]

#: the win-back states of :func:`state_table` (also ``workbench.survival.multistate.STATES``)
STATES = ("active", "churned", "reactivated", "churned_again")
CENSORED = "censored"

RULES = ("last", "count", "sum")
UNITS = {"days": 1.0, "months": DAYS_PER_MONTH}
N_EXAMPLES = 5
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _ident(name: str, arg: str) -> str:
    if not isinstance(name, str) or not name:
        raise ParameterError(f"`{arg}` must be a column name, got {name!r}.")
    return '"' + name.replace('"', '""') + '"'


def _source(con, data: Any, arg: str, view: str) -> None:
    """Register a DataFrame or a Parquet / CSV path as the DuckDB view ``view``."""
    if isinstance(data, pd.DataFrame):
        con.register(view, data)
        return
    if isinstance(data, (str, Path)):
        p = Path(data)
        if not p.exists():
            raise ParameterError(f"`{arg}`: file '{p}' does not exist.")
        lit = "'" + str(p).replace("'", "''") + "'"
        if p.suffix.lower() in (".csv", ".gz", ".tsv"):
            con.execute(f"CREATE VIEW {view} AS SELECT * FROM read_csv_auto({lit})")
        else:
            con.execute(f"CREATE VIEW {view} AS SELECT * FROM read_parquet({lit})")
        return
    raise ParameterError(
        f"`{arg}` must be a pandas DataFrame or a path to a Parquet/CSV file, got {type(data).__name__}."
    )


def _columns(con, view: str) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE {view}").fetchall()
    return {r[0]: str(r[1]).upper() for r in rows}


def _need(cols: dict, names: list[str | None], arg_names: list[str], table: str) -> None:
    for name, arg in zip(names, arg_names):
        if name is not None and name not in cols:
            raise DataValidationError(
                f"`{arg}`={name!r} is not a column of the {table}; columns received: "
                f"{list(cols)[:20]}. Pass the column that holds it.",
                column=name,
                rule="required columns present",
            )


def _is_temporal(dtype: str) -> bool:
    return dtype.startswith("DATE") or dtype.startswith("TIMESTAMP")


def _fail_if(con, sql: str, *, rule: str, column: str, problem: str, fix: str) -> None:
    """Raise when ``sql`` (selecting one id column) returns rows; name the first ids."""
    n, ids = con.execute(
        f"SELECT count(*), list(id ORDER BY id) FILTER (WHERE rk <= {N_EXAMPLES}) "
        f"FROM (SELECT id, row_number() OVER (ORDER BY id) AS rk FROM ({sql}))"
    ).fetchall()[0]
    if n:
        ex = list(ids or [])
        raise DataValidationError(
            f"rule '{rule}': {n:,} {problem} (first customer ids: {ex}). {fix}",
            column=column,
            rule=rule,
            n_rows=int(n),
            examples=ex,
        )


def _sorted_fail(n: int, ids: list, id_col: str, time_col: str) -> None:
    raise DataValidationError(
        f"rule 'log sorted by customer and time': {n:,} customer(s) have log rows out of order "
        f"(by customer id, then time) (first customer ids: {ids}). Sort the log by ({id_col}, "
        f"{time_col}) and check the export (time zones, concatenated files), or pass sort=True "
        "to accept it as it is.",
        column=time_col,
        rule="log sorted by customer and time",
        n_rows=n,
        examples=ids,
    )


def _check_sorted(con, events: Any, id_col: str, time_col: str, q_id: str, q_time: str) -> None:
    """The log is in (id, time) order: one streaming pass in file order (no sort)."""
    import numpy as np

    def batches():
        if isinstance(events, pd.DataFrame):
            yield events[id_col].to_numpy(), events[time_col].to_numpy()
            return
        p = Path(events)
        if p.suffix.lower() in (".csv", ".gz", ".tsv"):
            got = con.execute(f"SELECT {q_id} AS i, {q_time} AS t FROM _wb_events").fetchnumpy()
            yield np.asarray(got["i"]), np.asarray(got["t"])
            return
        import pyarrow.parquet as pq

        for b in pq.ParquetFile(p).iter_batches(batch_size=1 << 20, columns=[id_col, time_col]):
            yield (
                b.column(0).to_numpy(zero_copy_only=False),
                b.column(1).to_numpy(zero_copy_only=False),
            )

    bad_ids: list = []
    n_bad = 0
    prev = None
    for ids, t in batches():
        if len(ids) == 0:
            continue
        if prev is not None:
            ids, t = np.concatenate([prev[0], ids]), np.concatenate([prev[1], t])
        bad = (ids[1:] < ids[:-1]) | ((ids[1:] == ids[:-1]) & (t[1:] < t[:-1]))
        if bad.any():
            found = pd.unique(ids[1:][bad])
            n_bad += len(found)
            bad_ids += [x.item() if hasattr(x, "item") else x for x in found[:N_EXAMPLES]]
        prev = (ids[-1:], t[-1:])
    if n_bad:
        _sorted_fail(n_bad, sorted(set(bad_ids))[:N_EXAMPLES], id_col, time_col)


def build_intervals(
    spells: Any,
    events: Any = None,
    *,
    id_col: str,
    start_col: str,
    stop_col: str,
    event_col: str,
    rules: Mapping[str, str] | None = None,
    time_col: str = "time",
    kind_col: str = "kind",
    value_col: str | None = "value",
    join_col: str | None = None,
    analysis_time: Any = None,
    unit: str = "months",
    sort: bool = False,
    out: str | Path | None = None,
    memory_limit: str = "3GB",
    threads: int | None = None,
) -> pd.DataFrame | Path:
    """Build counting-process ``(start, stop]`` rows from spells and a dated event log.

    Parameters
    ----------
    spells : DataFrame or path (Parquet / CSV)
        One row per customer spell: ``id_col``, ``start_col``, ``stop_col`` (missing = open,
        censored at ``analysis_time``), ``event_col`` (1 = the spell ended in churn), optionally
        ``join_col`` (the joining date / tenure 0; spells must not start before it).
    events : DataFrame or path, optional
        Long event log: ``id_col``, ``time_col``, ``kind_col`` and (for ``"last"`` / ``"sum"``)
        ``value_col``. Kinds not named in ``rules`` are ignored.
    rules : mapping kind -> {'last', 'count', 'sum'}
        How each kind becomes a covariate column of the same name (see the module docstring).
    time_col, kind_col, value_col : str
        Columns of ``events``.
    join_col : str, optional
        Joining date (or tenure origin) of the customer; default the start of the first spell.
    analysis_time : date or number, optional
        End of observation: open spells are censored here; spells and events after it are refused.
        Required when a spell is open.
    unit : {'months', 'days'}
        Tenure unit when the inputs are dates.
    sort : bool
        Sort the event log by customer and time. ``False`` (default) refuses an unsorted log,
        because an export out of order often means a broken export (time zones, merged files).
    out : path, optional
        Write the rows to this Parquet file (for results larger than memory) and return the path.
    memory_limit, threads
        DuckDB settings; beyond ``memory_limit`` DuckDB spills to a temporary directory.

    Returns
    -------
    DataFrame or Path
        ``id_col``, ``spell`` (1, 2, ... in order of start), ``start``, ``stop``, ``event_col``,
        one column per rule, ordered by customer, spell and start.

    Raises
    ------
    DataValidationError
        Bad spells or events (the message names the rule, the count, the first customer ids and
        the fix).
    ParameterError
        Unknown rule, unit, or a column that is not there.

    Examples
    --------
    >>> import pandas as pd
    >>> spells = pd.DataFrame({"id": [1], "start": [0.0], "stop": [10.0], "churned": [1]})
    >>> log = pd.DataFrame({"id": [1, 1], "time": [0.0, 4.0], "kind": ["sat", "sat"],
    ...                     "value": [4.0, 2.0]})
    >>> rows = build_intervals(spells, log, id_col="id", start_col="start", stop_col="stop",
    ...                        event_col="churned", rules={"sat": "last"})
    >>> rows[["start", "stop", "churned", "sat"]].to_numpy().tolist()
    [[0.0, 4.0, 0.0, 4.0], [4.0, 10.0, 1.0, 2.0]]

    References
    ----------
    Therneau, Crowson and Atkinson (2024), ``tmerge``; Andersen and Gill (1982).
    """
    import duckdb

    rules = dict(rules or {})
    for kind, rule in rules.items():
        if rule not in RULES:
            raise ParameterError(
                f"`rules[{kind!r}]` must be one of {RULES}, got {rule!r} ('last' carries the latest "
                "value forward, 'count' counts events so far, 'sum' adds their values)."
            )
        if not _NAME.match(str(kind)):
            raise ParameterError(
                f"`rules` key {kind!r} becomes a column name; use letters, digits and _ only."
            )
    if unit not in UNITS:
        raise ParameterError(f"`unit` must be one of {tuple(UNITS)}, got {unit!r}.")
    if rules and events is None:
        raise ParameterError("`rules` name event kinds but no `events` log was given.")

    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit='{memory_limit}'")
        con.execute("SET preserve_insertion_order=false")
        if threads:
            con.execute(f"SET threads={int(threads)}")
        _source(con, spells, "spells", "_wb_spells")
        scols = _columns(con, "_wb_spells")
        _need(
            scols,
            [id_col, start_col, stop_col, event_col, join_col],
            ["id_col", "start_col", "stop_col", "event_col", "join_col"],
            "spell table",
        )
        dated = _is_temporal(scols[start_col])
        per = UNITS[unit]
        q_id, q_start, q_stop, q_event = (
            _ident(c, a)
            for c, a in [
                (id_col, "id_col"),
                (start_col, "start_col"),
                (stop_col, "stop_col"),
                (event_col, "event_col"),
            ]
        )
        if dated:
            at = "NULL" if analysis_time is None else f"TIMESTAMP '{pd.Timestamp(analysis_time)}'"

            def tenure(col: str, origin: str = "o") -> str:
                return f"(epoch(CAST({col} AS TIMESTAMP)) - epoch(CAST({origin} AS TIMESTAMP))) / 86400.0 / {per}"
        else:
            at = "NULL" if analysis_time is None else repr(float(analysis_time))

            def tenure(col: str, origin: str = "o") -> str:
                return f"CAST({col} AS DOUBLE) - CAST({origin} AS DOUBLE)"

        origin = (
            _ident(join_col, "join_col")
            if join_col
            else f"min({q_start}) OVER (PARTITION BY {q_id})"
        )
        if not dated and not join_col:
            origin = "0.0"
        con.execute(
            f"""CREATE TEMP TABLE sp0 AS SELECT {q_id} AS id, {q_start} AS s_raw, {q_stop} AS t_raw,
                CAST({q_event} AS DOUBLE) AS ev, {origin} AS o FROM _wb_spells"""
        )
        # ------------------------------------------------------------ validation of the spells
        _fail_if(
            con,
            "SELECT id FROM sp0 WHERE id IS NULL OR s_raw IS NULL",
            rule="spell start present",
            column=start_col,
            problem="spell(s) have no customer id or no start",
            fix=f"Every spell needs `{id_col}` and `{start_col}`; drop or repair those rows.",
        )
        _fail_if(
            con,
            "SELECT id FROM sp0 WHERE ev IS NULL OR ev NOT IN (0, 1) OR (t_raw IS NULL AND ev = 1)",
            rule="churn flag 0/1",
            column=event_col,
            problem=f"spell(s) have `{event_col}` not 0/1, or churn on a spell with no stop",
            fix="Code churn as 1 on closed spells that ended in churn and 0 otherwise.",
        )
        _fail_if(
            con,
            "SELECT id FROM sp0 WHERE t_raw IS NOT NULL AND t_raw <= s_raw",
            rule="stop after start",
            column=stop_col,
            problem=f"spell(s) have `{stop_col}` at or before `{start_col}` (reversed or empty)",
            fix="Swap reversed dates or drop zero-length spells; a spell must end after it starts.",
        )
        _fail_if(
            con,
            "SELECT id FROM sp0 GROUP BY id HAVING count(*) FILTER (WHERE t_raw IS NULL) > 1",
            rule="one open spell",
            column=stop_col,
            problem="customer(s) have two or more open spells (missing stop)",
            fix="A customer is in at most one spell at a time: close the earlier spell with its "
            "churn date, or drop the duplicate row.",
        )
        _fail_if(
            con,
            """SELECT id FROM (SELECT id, s_raw, lag(t_raw) OVER w AS prev_stop,
                row_number() OVER w AS rn FROM sp0 WINDOW w AS (PARTITION BY id ORDER BY s_raw))
                WHERE rn > 1 AND (prev_stop IS NULL OR prev_stop > s_raw) GROUP BY id""",
            rule="spells do not overlap",
            column=start_col,
            problem="customer(s) have overlapping spells (a spell starts before the previous ends)",
            fix="Merge the overlapping spells or correct their dates; win-back spells start after "
            "the churn that ended the previous spell.",
        )
        if join_col:
            _fail_if(
                con,
                "SELECT id FROM sp0 WHERE s_raw < o GROUP BY id",
                rule="spell after joining",
                column=start_col,
                problem=f"customer(s) have a spell starting before their joining date `{join_col}`",
                fix=f"Correct `{join_col}` (the first day as a customer) or the spell start.",
            )
        if at != "NULL":
            _fail_if(
                con,
                f"""SELECT id FROM sp0 WHERE s_raw > {at} OR t_raw > {at}
                    OR (t_raw IS NULL AND s_raw >= {at}) GROUP BY id""",
                rule="spells before the analysis time",
                column=stop_col,
                problem="customer(s) have a spell starting or ending after the analysis time "
                f"{analysis_time} (or an open spell starting at it)",
                fix="Observation ends at the analysis time: set a later `analysis_time`, or treat "
                "those spells as open (missing stop) at the analysis time.",
            )
        else:
            _fail_if(
                con,
                "SELECT id FROM sp0 WHERE t_raw IS NULL GROUP BY id",
                rule="analysis time for open spells",
                column=stop_col,
                problem="customer(s) have an open spell but no `analysis_time` was given",
                fix="Pass `analysis_time=` (the export date) to censor open spells there.",
            )
        con.execute(
            f"""CREATE TEMP TABLE sp AS SELECT id,
                CAST(row_number() OVER (PARTITION BY id ORDER BY s_raw) AS INTEGER) AS spell,
                {tenure("s_raw")} AS start, {tenure(f"coalesce(t_raw, {at})")} AS stop,
                CASE WHEN t_raw IS NULL THEN 0.0 ELSE ev END AS ev, o FROM sp0"""
        )
        if not join_col and not dated:
            _fail_if(
                con,
                "SELECT id FROM sp WHERE start < 0 GROUP BY id",
                rule="spell after joining",
                column=start_col,
                problem=f"customer(s) have a spell starting at negative tenure `{start_col}` < 0 "
                "(before joining)",
                fix="Tenure counts from joining (0); correct the start or give `join_col`.",
            )
        kinds = list(rules)
        if events is not None and kinds:
            _source(con, events, "events", "_wb_events")
            ecols = _columns(con, "_wb_events")
            needs_value = any(r != "count" for r in rules.values())
            _need(
                ecols,
                [id_col, time_col, kind_col, value_col if needs_value else None],
                ["id_col", "time_col", "kind_col", "value_col"],
                "event log",
            )
            ET, EK = _ident(time_col, "time_col"), _ident(kind_col, "kind_col")
            EV = _ident(value_col, "value_col") if needs_value else "NULL"
            if _is_temporal(ecols[time_col]) != dated:
                raise DataValidationError(
                    f"the event log's `{time_col}` is {ecols[time_col]} but the spells' "
                    f"`{start_col}` is {scols[start_col]}: give both as dates or both as tenure.",
                    column=time_col,
                    rule="same time scale",
                )
            klist = ", ".join("'" + k.replace("'", "''") + "'" for k in kinds)
            con.execute(
                f"""CREATE TEMP TABLE ev0 AS SELECT {q_id} AS id, {ET} AS t_raw,
                    CAST({EK} AS VARCHAR) AS kind, CAST({EV} AS DOUBLE) AS value
                    FROM _wb_events
                    WHERE CAST({EK} AS VARCHAR) IN ({klist})"""
            )
            _fail_if(
                con,
                "SELECT id FROM ev0 WHERE id IS NULL OR t_raw IS NULL",
                rule="event time present",
                column=time_col,
                problem="event(s) have no customer id or no time",
                fix="Drop or repair log rows without id or time.",
            )
            if not sort:
                _check_sorted(con, events, id_col, time_col, q_id, ET)
            _fail_if(
                con,
                "SELECT id FROM ev0 ANTI JOIN (SELECT DISTINCT id FROM sp0) USING (id) GROUP BY id",
                rule="events of known customers",
                column=id_col,
                problem="customer id(s) in the event log have no spell",
                fix="Add their spells to the spell table or drop their events.",
            )
            if at != "NULL":
                _fail_if(
                    con,
                    f"SELECT id FROM ev0 WHERE t_raw > {at} GROUP BY id",
                    rule="events before the analysis time",
                    column=time_col,
                    problem=f"customer(s) have events after the analysis time {analysis_time}",
                    fix="Events after the export date cannot be known at it: drop them, or set a "
                    "later `analysis_time`.",
                )
            con.execute(
                f"""CREATE TEMP TABLE ev AS SELECT e.id, e.kind, e.value,
                    {tenure("e.t_raw", "c.o")} AS t FROM ev0 e
                    JOIN (SELECT id, any_value(o) AS o FROM sp GROUP BY id) c USING (id)"""
            )
            cut_sql = """UNION SELECT sp.id, sp.spell, ev.t FROM ev JOIN sp
                         ON ev.id = sp.id AND ev.t > sp.start AND ev.t < sp.stop"""
        else:
            cut_sql = ""
        con.execute(
            f"""CREATE TEMP TABLE cuts AS SELECT id, spell, t FROM (
                  SELECT id, spell, start AS t FROM sp UNION SELECT id, spell, stop FROM sp
                  {cut_sql})"""
        )
        con.execute(
            """CREATE TEMP TABLE iv AS SELECT c.id, c.spell, c.t AS start, c.stop,
                 CASE WHEN c.stop = sp.stop THEN sp.ev ELSE 0.0 END AS event FROM (
                   SELECT id, spell, t, lead(t) OVER (PARTITION BY id, spell ORDER BY t) AS stop
                   FROM cuts) c JOIN sp USING (id, spell) WHERE c.stop IS NOT NULL"""
        )
        select = [f"iv.id AS {q_id}", "iv.spell", "iv.start", "iv.stop", f"iv.event AS {q_event}"]
        joins = []
        for j, (kind, rule) in enumerate(rules.items()):
            kl = "'" + kind.replace("'", "''") + "'"
            if rule == "last":
                body = (
                    f"SELECT id, t, any_value(value) AS v, count(DISTINCT value) AS nv, "
                    f"count(*) - count(value) AS nmiss FROM ev WHERE kind = {kl} GROUP BY id, t"
                )
            else:
                agg = "count(*)" if rule == "count" else "sum(value)"
                body = (
                    f"SELECT id, t, sum({agg}) OVER (PARTITION BY id ORDER BY t) AS v FROM ev "
                    f"WHERE kind = {kl} GROUP BY id, t"
                )
            con.execute(f"CREATE TEMP TABLE k{j} AS {body}")
            if rule == "last":
                _fail_if(
                    con,
                    f"SELECT id FROM k{j} WHERE nv > 1 OR nmiss > 0 GROUP BY id",
                    rule="one value per measurement time",
                    column=value_col or "value",
                    problem=f"customer(s) have two different (or missing) values of {kind!r} at "
                    "the same time",
                    fix="Keep one value per customer, kind and time (e.g. the later survey), and "
                    "drop missing values.",
                )
            joins.append(f"ASOF LEFT JOIN k{j} ON iv.id = k{j}.id AND iv.start >= k{j}.t")
            default = "NULL" if rule == "last" else "0"
            select.append(f"coalesce(CAST(k{j}.v AS DOUBLE), {default}) AS {_ident(kind, 'rules')}")
        query = f"SELECT {', '.join(select)} FROM iv {' '.join(joins)} ORDER BY iv.id, iv.spell, iv.start"
        if out is not None:
            outp = Path(out)
            outp.parent.mkdir(parents=True, exist_ok=True)
            lit = "'" + str(outp).replace("'", "''") + "'"
            con.execute(f"COPY ({query}) TO {lit} (FORMAT PARQUET)")
            return outp
        frame = con.execute(query).df()
    finally:
        con.close()
    return frame.reset_index(drop=True)


from .states import state_table  # noqa: E402 (re-exported; states builds on build_intervals)
