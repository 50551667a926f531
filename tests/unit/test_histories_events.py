"""Counting-process rows from spells and event logs (``workbench.data.events``).

The rules are R's ``tmerge`` (``tdc`` = last value carried forward, ``cumtdc`` = counts), checked
row for row on R's ``pbc`` / ``pbcseq`` (tests/reference/histories/make_reference.R) and on a small
case written out here; every refused input names the customer ids and the fix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data.events import build_intervals, state_table
from workbench.exceptions import DataValidationError, ParameterError

REF = Path(__file__).resolve().parents[1] / "reference" / "histories"


def test_tmerge_pbcseq_row_for_row():
    """tmerge(pbc2, pbcseq, id = id, bili = tdc(day, bili), albumin = tdc(day, albumin),
    protime = tdc(day, protime)) on tmerge(temp, temp, id = id, death = event(time, status == 2))."""
    base = pd.read_csv(REF / "pbc_base.csv")
    base["start"] = 0.0
    base["death"] = (base["status"] == 2).astype(int)
    log = (
        pd.read_csv(REF / "pbcseq_log.csv")
        .melt(id_vars=["id", "day"], var_name="kind", value_name="value")
        .sort_values(["id", "day"], kind="stable")
    )
    rows = build_intervals(
        base,
        log,
        id_col="id",
        start_col="start",
        stop_col="time",
        event_col="death",
        time_col="day",
        rules={"bili": "last", "albumin": "last", "protime": "last"},
    )
    ref = pd.read_csv(REF / "pbc_tmerge.csv")
    assert len(rows) == len(ref) == 1807
    np.testing.assert_array_equal(rows["id"], ref["id"])
    np.testing.assert_array_equal(rows["start"], ref["tstart"])
    np.testing.assert_array_equal(rows["stop"], ref["tstop"])
    np.testing.assert_array_equal(rows["death"], ref["death"].astype(int))
    for c in ("bili", "albumin", "protime"):
        np.testing.assert_array_equal(rows[c], ref[c])


def _small():
    spells = pd.DataFrame(
        {"id": [1, 2, 3], "entry": [0.0, 2, 0], "futime": [10.0, 8, 5], "status": [1, 0, 1]}
    )
    log = pd.DataFrame(
        {
            "id": [1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3],
            "t": [0.0, 3, 3, 6, 7, 1, 4, 9, -1, 2, 5],
            "kind": [
                "sat",
                "sat",
                "complaint",
                "complaint",
                "sat",
                "sat",
                "sat",
                "complaint",
                "complaint",
                "complaint",
                "sat",
            ],
            "value": [4.0, 3, 1, 1, 2, 5, 1, 1, 1, 1, 9],
        }
    )
    return spells, log


def test_small_case_equals_tmerge():
    """R: tmerge(base, base, id, death = event(futime, status), tstart = entry, tstop = futime);
    then sat = tdc(t, score) and ncomp = cumtdc(t): a value at the start counts from it, one before
    the spell is carried in, one at the stop is ignored, none yet is NA."""
    spells, log = _small()
    rows = build_intervals(
        spells,
        log,
        id_col="id",
        start_col="entry",
        stop_col="futime",
        event_col="status",
        time_col="t",
        rules={"sat": "last", "complaint": "count"},
    )
    expected = pd.DataFrame(
        {
            "id": [1, 1, 1, 1, 2, 2, 3, 3],
            "start": [0.0, 3, 6, 7, 2, 4, 0, 2],
            "stop": [3.0, 6, 7, 10, 4, 8, 2, 5],
            "status": [0.0, 0, 0, 1, 0, 0, 0, 1],
            "sat": [4.0, 3, 3, 2, 5, 1, np.nan, np.nan],
            "complaint": [0.0, 1, 2, 2, 0, 0, 1, 2],
        }
    )
    pd.testing.assert_frame_equal(rows.drop(columns="spell"), expected, check_dtype=False)


def test_parquet_path_and_dates_give_the_same_rows(tmp_path):
    spells, log = _small()
    sp, lg = tmp_path / "spells.parquet", tmp_path / "log.parquet"
    spells.to_parquet(sp)
    log.to_parquet(lg)
    kw = dict(
        id_col="id",
        start_col="entry",
        stop_col="futime",
        event_col="status",
        time_col="t",
        rules={"sat": "last", "complaint": "sum"},
    )
    mem = build_intervals(spells, log, **kw)
    out = build_intervals(sp, lg, out=tmp_path / "rows.parquet", **kw)
    pd.testing.assert_frame_equal(pd.read_parquet(out), mem)
    # the same history in dates (days): tenure in days since joining
    day0 = pd.Timestamp("2024-01-01")
    ds = spells.assign(
        join=day0,
        entry=day0 + pd.to_timedelta(spells["entry"], "D"),
        futime=day0 + pd.to_timedelta(spells["futime"], "D"),
    )
    dl = log.assign(t=day0 + pd.to_timedelta(log["t"], "D"))
    dated = build_intervals(ds, dl, **{**kw, "join_col": "join"}, unit="days")
    pd.testing.assert_frame_equal(dated, mem)


def test_state_table_win_back_rows():
    spells = pd.DataFrame(
        {
            "id": [1, 1, 2, 3],
            "start": [0.0, 6.0, 0.0, 0.0],
            "stop": [4.0, np.nan, 9.0, np.nan],
            "churned": [1, 0, 1, 0],
        }
    )
    rows = state_table(
        spells,
        id_col="id",
        start_col="start",
        stop_col="stop",
        event_col="churned",
        analysis_time=12.0,
    )
    got = rows[["id", "start", "stop", "from_state", "to_state"]].values.tolist()
    assert got == [
        [1, 0.0, 4.0, "active", "churned"],
        [1, 4.0, 6.0, "churned", "reactivated"],
        [1, 6.0, 12.0, "reactivated", "censored"],
        [2, 0.0, 9.0, "active", "churned"],
        [2, 9.0, 12.0, "churned", "censored"],
        [3, 0.0, 12.0, "active", "censored"],
    ]


# ------------------------------------------------------------------------------- bad input
def _build(spells, log=None, **kw):
    args = dict(
        id_col="id",
        start_col="start",
        stop_col="stop",
        event_col="churned",
        time_col="t",
        analysis_time=20.0,
    )
    args.update(kw)
    return build_intervals(spells, log, **args)


SP = dict(id=[7, 8, 9], start=[0.0, 0.0, 0.0], stop=[5.0, 6.0, np.nan], churned=[1, 1, 0])


def test_reversed_spell_names_ids_and_fix():
    sp = pd.DataFrame({**SP, "stop": [5.0, -2.0, np.nan]})
    with pytest.raises(DataValidationError, match=r"at or before `start`.*ids: \[8\].*Swap"):
        _build(sp)


def test_overlapping_spells_name_ids():
    sp = pd.DataFrame(
        {"id": [7, 7, 8], "start": [0.0, 3.0, 0.0], "stop": [5.0, 9.0, 4.0], "churned": [1, 1, 1]}
    )
    with pytest.raises(DataValidationError, match=r"overlapping spells.*ids: \[7\].*Merge"):
        _build(sp)


def test_two_open_spells_name_ids():
    sp = pd.DataFrame(
        {
            "id": [7, 7, 8],
            "start": [0.0, 3.0, 0.0],
            "stop": [np.nan, np.nan, 4.0],
            "churned": [0, 0, 1],
        }
    )
    with pytest.raises(DataValidationError, match=r"two or more open spells.*ids: \[7\].*close"):
        _build(sp)


def test_spell_before_joining_names_ids():
    sp = pd.DataFrame({**SP, "join": [0.0, 1.0, 0.0]})
    with pytest.raises(DataValidationError, match=r"before their joining date.*ids: \[8\]"):
        _build(sp, join_col="join")
    with pytest.raises(DataValidationError, match=r"negative tenure.*ids: \[9\]"):
        _build(pd.DataFrame({**SP, "start": [0.0, 0.0, -1.0]}))


def test_events_after_the_analysis_date_name_ids():
    log = pd.DataFrame({"id": [7, 9], "t": [1.0, 25.0], "kind": "complaint", "value": 1.0})
    with pytest.raises(DataValidationError, match=r"events after the analysis time.*ids: \[9\]"):
        _build(pd.DataFrame(SP), log, rules={"complaint": "count"})
    sp = pd.DataFrame({**SP, "stop": [5.0, 26.0, np.nan]})
    with pytest.raises(DataValidationError, match=r"after the analysis time.*ids: \[8\]"):
        _build(sp)


def test_unsorted_log_names_ids_and_fix():
    log = pd.DataFrame(
        {"id": [7, 7, 8, 9], "t": [3.0, 1.0, 1.0, 2.0], "kind": "complaint", "value": 1.0}
    )
    with pytest.raises(DataValidationError, match=r"out of order.*ids: \[7\].*sort=True"):
        _build(pd.DataFrame(SP), log, rules={"complaint": "count"})
    rows = _build(pd.DataFrame(SP), log, rules={"complaint": "count"}, sort=True)
    assert rows.loc[rows["id"] == 7, "complaint"].tolist() == [0.0, 1.0, 2.0]


def test_other_refusals():
    with pytest.raises(DataValidationError, match=r"no spell.*ids: \[99\]"):
        _build(
            pd.DataFrame(SP),
            pd.DataFrame({"id": [99], "t": [1.0], "kind": "c", "value": 1.0}),
            rules={"c": "count"},
        )
    log = pd.DataFrame({"id": [7, 7], "t": [1.0, 1.0], "kind": "sat", "value": [2.0, 4.0]})
    with pytest.raises(DataValidationError, match=r"two different .*ids: \[7\]"):
        _build(pd.DataFrame(SP), log, rules={"sat": "last"})
    with pytest.raises(DataValidationError, match=r"no `analysis_time`.*ids: \[9\]"):
        _build(pd.DataFrame(SP), analysis_time=None)
    with pytest.raises(ParameterError, match=r"`rules\['sat'\]` must be one of"):
        _build(pd.DataFrame(SP), log, rules={"sat": "mean"})
    with pytest.raises(DataValidationError, match=r"`stop_col`='end' is not a column"):
        _build(pd.DataFrame(SP), stop_col="end")


def test_time_varying_cox_on_tmerge_rows_matches_coxph():
    """coxph(Surv(tstart, tstop, death) ~ age + log(bili) + log(protime) + log(albumin),
    data = pbc2, cluster = id) on the tmerge rows: coefficients, naive and robust SE, loglik."""
    from workbench.survival import fit_cox

    base = pd.read_csv(REF / "pbc_base.csv").assign(start=0.0)
    base["death"] = (base["status"] == 2).astype(int)
    log = pd.read_csv(REF / "pbcseq_log.csv").melt(
        id_vars=["id", "day"], var_name="kind", value_name="value"
    )
    rows = build_intervals(
        base,
        log,
        id_col="id",
        start_col="start",
        stop_col="time",
        event_col="death",
        time_col="day",
        rules={"bili": "last", "albumin": "last", "protime": "last"},
        sort=True,
    ).merge(base[["id", "age"]], on="id")
    for c in ("bili", "protime", "albumin"):
        rows[f"log_{c}"] = np.log(rows[c])
    ref = pd.read_csv(REF / "pbc_cox_tv.csv")
    res = fit_cox(
        rows,
        start_col="start",
        stop_col="stop",
        event_col="death",
        id_col="id",
        covariates=["age", "log_bili", "log_protime", "log_albumin"],
    )
    np.testing.assert_allclose(res.summary["estimate"], ref["coef"], atol=1e-8)
    np.testing.assert_allclose(res.summary["se"], ref["robust_se"], atol=1e-8)
    np.testing.assert_allclose(res.meta["naive_se"], ref["se"], atol=1e-8)
    assert res.meta["loglik"] == pytest.approx(ref["loglik"].iloc[0], abs=1e-8)
