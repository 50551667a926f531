"""The front door: every CLI command given a broken input answers in one paragraph, never a traceback.

Each case runs the real ``workbench`` command line in a subprocess and checks the exit code
(2 = the input was wrong, 1 = a run failed), that stderr names the problem and the fix, and that
no Python traceback reaches the user. ``--debug`` brings the traceback back.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NB = Path(__file__).resolve().parent / "notebooks"
SPEC = "id: customer_id\ntenure: tenure\nevent: churned\n"


def _files(d: Path) -> None:
    (d / "spec.yml").write_text(SPEC)
    (d / "empty.csv").write_text("")
    (d / "latin.csv").write_bytes(
        "customer_id,tenure,churned\n1,3,0\nJos\xe9,5,0\n".encode("latin-1")
    )
    (d / "ragged.csv").write_text("customer_id,tenure,churned\n1,3,0\n2,4,1,9\n")
    (d / "semi.csv").write_text("customer_id;tenure;churned\n1;3;0\n2;4;1\n")
    (d / "corrupt.parquet").write_bytes(b"PAR1 this is not parquet")
    (d / "renamed.parquet").write_text("customer_id,tenure,churned\n1,3,0\n")
    (d / "csvs").mkdir()
    (d / "csvs" / "a.csv").write_text("customer_id,tenure,churned\n1,3,0\n")
    (d / "notdb.duckdb").write_text("not a database")
    (d / "typo.yml").write_text(SPEC + "treatments:\n  - {column: offer, contol: none}\n")
    (d / "scale.yml").write_text(SPEC + "satisfaction: s\nsatisfaction_scale: 5\n")
    (d / "badyaml.yml").write_text("id: [unclosed\n")
    (d / "unit.yml").write_text(SPEC + "tenure_unit: decades\n")
    (d / "months.csv").write_text(
        "customer_id,tenure,churned\n" + "".join(f"{i},{900 + i * 40},0\n" for i in range(50))
    )
    (d / "index.yml").write_text(f"name: index.html\nnotebooks: [{NB / 'trivial.ipynb'}]\n")
    (d / "badkey.yml").write_text(f"notebook: [{NB / 'trivial.ipynb'}]\n")
    (d / "params.yml").write_text("- not a mapping\n")
    (d / "mine").mkdir()
    (d / "mine" / "trivial").mkdir()
    (d / "mine" / "trivial" / "keep").mkdir()
    (d / "mine" / "trivial" / "keep" / "thesis.txt").write_text("my work")


CASES = [
    # (id, argv, exit code, text that must be in stderr)
    ("generate-xlsx", ["data", "generate", "--out", "x.xlsx"], 2, "unknown file type '.xlsx'"),
    ("generate-n0", ["data", "generate", "--n", "0", "--out", "x.parquet"], 2, "n_customers"),
    ("generate-seed", ["data", "generate", "--seed", "-1", "--out", "x.parquet"], 2, "seed"),
    ("generate-n-text", ["data", "generate", "--n", "many"], 2, "invalid int value"),
    (
        "validate-missing",
        ["data", "validate", "nope.csv", "--spec", "spec.yml"],
        2,
        "does not exist",
    ),
    ("validate-empty", ["data", "validate", "empty.csv", "--spec", "spec.yml"], 2, "is empty"),
    (
        "validate-latin1",
        ["data", "validate", "latin.csv", "--spec", "spec.yml"],
        2,
        "encoding: latin-1",
    ),
    (
        "validate-ragged",
        ["data", "validate", "ragged.csv", "--spec", "spec.yml"],
        2,
        "line 3 has 4 fields",
    ),
    ("validate-sep", ["data", "validate", "semi.csv", "--spec", "spec.yml"], 2, 'sep: ";"'),
    (
        "validate-corrupt",
        ["data", "validate", "corrupt.parquet", "--spec", "spec.yml"],
        2,
        "not a readable Parquet",
    ),
    (
        "validate-renamed",
        ["data", "validate", "renamed.parquet", "--spec", "spec.yml"],
        2,
        "magic bytes",
    ),
    (
        "validate-csv-folder",
        ["data", "validate", "csvs", "--spec", "spec.yml"],
        2,
        "holds no Parquet files",
    ),
    ("validate-xlsx", ["data", "validate", "data.xlsx", "--spec", "spec.yml"], 2, "does not exist"),
    (
        "spec-missing",
        ["data", "validate", "ragged.csv", "--spec", "nope.yml"],
        2,
        "spec file not found",
    ),
    (
        "spec-typo",
        ["data", "validate", "ragged.csv", "--spec", "typo.yml"],
        2,
        "did you mean 'control'",
    ),
    (
        "spec-scale",
        ["data", "validate", "ragged.csv", "--spec", "scale.yml"],
        2,
        "satisfaction_scale: [1, 5]",
    ),
    ("spec-yaml", ["data", "validate", "ragged.csv", "--spec", "badyaml.yml"], 2, "not valid YAML"),
    ("spec-unit", ["data", "validate", "ragged.csv", "--spec", "unit.yml"], 2, "tenure_unit"),
    (
        "implausible",
        ["data", "validate", "months.csv", "--spec", "spec.yml"],
        2,
        "tenure_unit: days",
    ),
    ("describe-unknown", ["data", "describe", "--dataset", "nosuch"], 2, "unknown dataset"),
    (
        "describe-telco-path",
        ["data", "describe", "--dataset", "telco", "--data-path", "nowhere"],
        2,
        "nowhere",
    ),
    ("describe-n0", ["data", "describe", "--n", "0"], 2, "n_customers"),
    ("run-missing", ["run", "nope.ipynb"], 2, "does not exist"),
    ("run-not-ipynb", ["run", "spec.yml"], 2, "not a .ipynb"),
    (
        "run-unknown-param",
        ["run", str(NB / "trivial.ipynb"), "-p", "y", "2"],
        2,
        "unknown parameter 'y'",
    ),
    ("run-wrong-type", ["run", str(NB / "trivial.ipynb"), "-p", "x", "abc"], 2, "must be int"),
    (
        "run-timeout-0",
        ["run", str(NB / "trivial.ipynb"), "--timeout", "0"],
        2,
        "positive number of seconds",
    ),
    (
        "run-params-file",
        ["run", str(NB / "trivial.ipynb"), "-f", "params.yml"],
        2,
        "must hold a mapping",
    ),
    (
        "run-name-foreign",
        ["run", str(NB / "trivial.ipynb"), "--out", "mine", "--name", "keep"],
        2,
        "never deletes what it did not create",
    ),
    ("batch-missing", ["batch", "nope.yml"], 2, "does not exist"),
    ("batch-index", ["batch", "index.yml"], 2, "looks like a file name"),
    ("batch-key", ["batch", "badkey.yml"], 2, "did you mean"),
    ("batch-timeout-0", ["batch", "index.yml", "--timeout", "0"], 2, "positive number of seconds"),
    ("batch-workers-0", ["batch", "index.yml", "--workers", "0"], 2, "at least 1"),
    (
        "batch-scheduler-local",
        ["batch", "badkey.yml", "--scheduler", "tcp://x:1"],
        2,
        "did you mean",
    ),
    ("reports-missing", ["reports", "--out", "nowhere"], 2, "does not exist"),
    ("no-command", [], 2, "required"),
]


def _cli(argv, cwd: Path, **env):
    e = dict(os.environ, **env)
    e["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[2] / "src"), e.get("PYTHONPATH", "")]
    )
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=e,
        timeout=120,
    )


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("frontdoor")
    _files(d)
    return d


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_broken_input_one_paragraph_no_traceback(case, work):
    _, argv, code, text = case
    r = _cli(argv, work, WORKBENCH_REPORTS=str(work / "reports"))
    assert r.returncode == code, r.stderr
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    assert text in r.stderr, r.stderr
    if not r.stderr.startswith("usage:"):  # ours: one paragraph (argparse's: usage + message)
        assert len([ln for ln in r.stderr.splitlines() if ln.strip()]) == 1, r.stderr


def test_foreign_folder_untouched(work):
    _cli(["run", str(NB / "trivial.ipynb"), "--out", "mine", "--name", "keep"], work)
    assert (work / "mine" / "trivial" / "keep" / "thesis.txt").read_text() == "my work"


def test_debug_shows_the_traceback(work):
    r = _cli(["data", "validate", "empty.csv", "--spec", "spec.yml", "--debug"], work)
    assert r.returncode == 2 and "Traceback" in r.stderr and "is empty" in r.stderr


def test_unexpected_error_is_one_paragraph_exit_1(work):
    """An exception the workbench does not anticipate still reaches the user as one paragraph."""
    (work / "reports").mkdir(exist_ok=True)
    code = (
        "import sys, workbench.cli as c, workbench.runner.index as ix\n"
        "def boom(root): raise ZeroDivisionError('division by zero')\n"
        "ix.write_index = boom\n"
        f"sys.exit(c.main(['reports', '--out', {str(work / 'reports')!r}]))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=work,
        env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src")),
        timeout=60,
    )
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "unexpected error ZeroDivisionError: division by zero" in r.stderr
    assert "--debug" in r.stderr
