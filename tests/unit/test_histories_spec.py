"""Roles for histories: ``entry`` (Telco's quarter window), the counting-process layout (``start``),
the dated event log of ``workbench data from-events``, and their refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main
from workbench.data import RoleSpec, validate
from workbench.data.events import build_intervals
from workbench.exceptions import DataValidationError, SpecError


def test_telco_declares_the_quarter_window(telco):
    assert telco.spec.entry == "entry_months" and telco.spec.observation_window == 3
    f = telco.frame
    expected = np.maximum(0.0, f["tenure_in_months"].to_numpy(float) - 3)
    np.testing.assert_array_equal(f["entry_months"].to_numpy(float), expected)
    assert (f["entry_months"] <= f["tenure_in_months"]).all()


BASE = dict(id="id", tenure="stop", event="churned")


def test_counting_process_layout_validates_and_refuses_overlaps():
    rows = pd.DataFrame(
        {"id": [1, 1, 2], "start": [0.0, 3.0, 0.0], "stop": [3.0, 7.0, 4.0], "churned": [0, 1, 0]}
    )
    ds = validate(rows, RoleSpec(**BASE, start="start"))
    assert ds.n == 3
    bad = rows.assign(start=[0.0, 2.0, 0.0])
    with pytest.raises(DataValidationError, match=r"intervals do not overlap.*first rows: 2"):
        validate(bad, RoleSpec(**BASE, start="start"))
    with pytest.raises(DataValidationError, match=r"start < stop.*first rows: 3"):
        validate(rows.assign(start=[0.0, 3.0, 4.0]), RoleSpec(**BASE, start="start"))


def test_entry_role_refuses_entry_after_exit():
    df = pd.DataFrame({"id": [1, 2], "stop": [5.0, 2.0], "churned": [1, 0], "en": [1.0, 3.0]})
    with pytest.raises(DataValidationError, match=r"entry <= exit.*first rows: 2"):
        validate(df, RoleSpec(**BASE, entry="en"))


def test_spec_refusals():
    with pytest.raises(SpecError, match="observation_window"):
        RoleSpec(**BASE, observation_window=-3)
    with pytest.raises(SpecError, match="event_log"):
        RoleSpec(**BASE, event_log={"time": "d", "rules": {"sat": "mean"}})
    with pytest.raises(SpecError, match="not both"):
        RoleSpec(**BASE, entry="a", start="b")


def test_cli_from_events_writes_the_rows(tmp_path, capsys):
    spells = pd.DataFrame(
        {
            "cid": [1, 2],
            "since": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "until": pd.to_datetime(["2024-06-01", None]),
            "left": [1, 0],
        }
    )
    log = pd.DataFrame(
        {
            "cid": [1, 1, 2],
            "when": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-04-15"]),
            "what": ["sat", "sat", "complaint"],
            "v": [4.0, 2.0, 1.0],
        }
    )
    spells.to_parquet(tmp_path / "spells.parquet")
    log.to_parquet(tmp_path / "log.parquet")
    (tmp_path / "spec.yml").write_text(
        "id: cid\nstart: since\ntenure: until\nevent: left\ntenure_unit: days\n"
        "analysis_date: '2024-12-31'\n"
        "event_log: {time: when, kind: what, value: v, rules: {sat: last, complaint: count}}\n"
    )
    rc = main(
        [
            "data",
            "from-events",
            str(tmp_path / "log.parquet"),
            "--spec",
            str(tmp_path / "spec.yml"),
            "--spells",
            str(tmp_path / "spells.parquet"),
            "--out",
            str(tmp_path / "rows.parquet"),
        ]
    )
    assert rc == 0 and "wrote (start, stop] rows" in capsys.readouterr().out
    got = pd.read_parquet(tmp_path / "rows.parquet")
    want = build_intervals(
        spells,
        log,
        id_col="cid",
        start_col="since",
        stop_col="until",
        event_col="left",
        time_col="when",
        kind_col="what",
        value_col="v",
        rules={"sat": "last", "complaint": "count"},
        analysis_time="2024-12-31",
        unit="days",
    )
    pd.testing.assert_frame_equal(got, want)
    assert got["stop"].tolist() == [60.0, 152.0, 74.0, 334.0]
    # a bad file is one clear line, exit 2
    rc = main(
        [
            "data",
            "from-events",
            str(tmp_path / "log.parquet"),
            "--spec",
            str(tmp_path / "spec.yml"),
            "--spells",
            str(tmp_path / "nope.parquet"),
            "--out",
            str(tmp_path / "x.parquet"),
        ]
    )
    assert rc == 2
