"""record() and the capture of WorkbenchWarnings into <run dir>/warnings.jsonl under the runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from workbench.exceptions import ParameterError
from workbench.record import read_warnings, record

CODE = """
import warnings
import pandas as pd
import workbench
from workbench.exceptions import SeparationWarning, SmallSampleWarning
for _ in range(3):
    warnings.warn("group <b> separated", SeparationWarning)  # the same line: shown once by default
warnings.warn("only 4 events", SmallSampleWarning)
warnings.warn("not a workbench caveat", UserWarning)
workbench.record("n", 3)
workbench.record("table", pd.DataFrame({"a": [1.5, float("nan")]}))
"""


def test_capture_and_record_under_the_runner(tmp_path):
    env = dict(os.environ, WORKBENCH_RUN_DIR=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-c", CODE], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    # still shown as usual
    assert (
        "SeparationWarning: group <b> separated" in proc.stderr
        and "UserWarning: not a" in proc.stderr
    )
    assert read_warnings(tmp_path) == [
        {"category": "SeparationWarning", "message": "group <b> separated", "count": 1},
        {"category": "SmallSampleWarning", "message": "only 4 events", "count": 1},
    ]
    assert json.loads((tmp_path / "results.json").read_text()) == {
        "n": 3,
        "table": [{"a": 1.5}, {"a": None}],
    }


def test_no_capture_and_no_files_outside_the_runner(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_RUN_DIR"}
    proc = subprocess.run(
        [sys.executable, "-c", CODE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_record_returns_value_and_checks_name(monkeypatch):
    monkeypatch.delenv("WORKBENCH_RUN_DIR", raising=False)
    df = pd.DataFrame({"a": [1]})
    assert record("x", df) is df
    with pytest.raises(ParameterError, match=r"`name` must be a non-empty string, got ''"):
        record("", 1)


def test_read_warnings_counts_repeats(tmp_path):
    lines = [
        {"category": "A", "message": "m"},
        {"category": "A", "message": "m"},
        {"category": "B", "message": "m"},
    ]
    (tmp_path / "warnings.jsonl").write_text(
        "\n".join(json.dumps(x) for x in lines) + "\nnot json\n"
    )
    assert read_warnings(tmp_path) == [
        {"category": "A", "message": "m", "count": 2},
        {"category": "B", "message": "m", "count": 1},
    ]
    assert read_warnings(tmp_path / "none") == []
