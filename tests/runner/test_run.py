"""End-to-end runs in real kernels: `workbench run`, failure, timeout, batches, resume, Dask.

Every run writes under a tmp reports root (never the repo's reports/).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.runner.batch import run_batch

pytestmark = pytest.mark.slow


def _json(path: Path):
    return json.loads(path.read_text())


def test_workbench_run_writes_run_folder_with_provenance(nbdir, reports, capsys):
    rc = main(
        ["run", str(nbdir / "rich.ipynb"), "-p", "alpha", "0.1", "--name", "r1", "--timeout", "120"]
    )
    assert rc == 0, capsys.readouterr().err
    run = reports / "rich" / "r1"
    assert {"notebook.ipynb", "report.html", "results.json", "manifest.json"} <= {
        p.name for p in run.iterdir()
    }
    results = _json(run / "results.json")
    assert results["key_findings"][1] == "Alpha was 0.1"
    assert results["table"][0]["hazard_ratio"] == pytest.approx(1.23456789012345, rel=1e-12)
    m = _json(run / "manifest.json")
    assert (
        m["status"] == "ok"
        and m["parameters"] == {"alpha": 0.1}
        and m["parameters_given"] == {"alpha": 0.1}
    )
    assert m["warnings"] == [
        {"category": "SeparationWarning", "message": "separation in <group> x", "count": 1}
    ]
    assert m["packages"]["papermill"] and m["packages"]["python"] == ".".join(
        map(str, sys.version_info[:3])
    )
    assert len(m["git"]["commit"]) == 40 and m["duration_s"] > 0 and m["ended"] >= m["started"]
    assert m["kernel"] == "python3" and m["dataset"] is None
    html = (run / "report.html").read_text()
    assert "<script" not in html.lower()
    assert "Churn is &lt;script&gt;alert(2)&lt;/script&gt; lower" in html
    assert (
        "<figcaption><strong>Figure 1.</strong> Survival by &lt;segment&gt; &amp; plan</figcaption>"
        in html
    )
    assert "<strong>An outcome is perfectly predicted in some group</strong>" in html
    assert "separation in &lt;group&gt; x" in html
    assert "import matplotlib" not in html  # code hidden by default
    assert "r1/report.html" in (reports / "index.html").read_text()


def test_refused_before_execution(nbdir, reports, capsys):
    assert main(["run", str(nbdir / "trivial.ipynb"), "-p", "y", "2"]) == 2
    err = capsys.readouterr().err
    assert "unknown parameter 'y'; valid parameters: x: int = 1  # a number" in err
    assert main(["run", str(nbdir / "trivial.ipynb"), "-p", "x", "one"]) == 2
    assert "parameter `x` must be int, got 'one' (str)" in capsys.readouterr().err
    params = reports.parent / "params.yml"
    params.write_text("x: 2\nlabel: b\nfactr: 2.0\n")
    assert main(["run", str(nbdir / "trivial.ipynb"), "-f", str(params)]) == 2
    assert "unknown parameter 'factr'; valid parameters:" in capsys.readouterr().err
    assert main(["run", str(nbdir / "nope.ipynb")]) == 2
    assert "nope.ipynb' does not exist. Notebooks in" in capsys.readouterr().err
    assert not any(reports.iterdir())  # nothing ran, nothing written


def _write_batch(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_batch_with_failing_and_timed_out_runs(nbdir, reports, tmp_path, capsys):
    """One run fails, one times out; the others complete; summary and index show both; exit 1."""
    batch = _write_batch(
        tmp_path / "mixed.yml",
        f"""
name: mixed
notebooks:
  - path: {nbdir}/sleep.ipynb
    parameters: {{seconds: 600}}
    timeout: 12
  - {nbdir}/trivial.ipynb
  - {nbdir}/fail.ipynb
timeout: 150
""",
    )
    rc = main(["batch", str(batch), "--workers", "2", "--quiet"])
    out = capsys.readouterr()
    assert rc == 1
    assert "1 ok (0 unchanged, skipped), 1 failed, 1 timed out" in out.out
    trivial = _json(reports / "trivial" / "mixed" / "manifest.json")
    failed = _json(reports / "fail" / "mixed" / "manifest.json")
    timed = _json(reports / "sleep" / "mixed" / "manifest.json")
    assert (trivial["status"], failed["status"], timed["status"]) == ("ok", "failed", "timed_out")
    assert _json(reports / "trivial" / "mixed" / "results.json") == {
        "x": 1,
        "label": "a",
        "factor": 1.5,
        "items": [1, 2],
    }
    assert (
        failed["error"]["ename"] == "ValueError"
        and "deliberate failure for x=1" in failed["error"]["evalue"]
    )
    assert _json(reports / "fail" / "mixed" / "results.json") == {
        "before": 1
    }  # partial results kept
    assert "deliberate failure for x=1" in (reports / "fail" / "mixed" / "report.html").read_text()
    assert timed["error"]["ename"] == "TimeoutError" and 12 <= timed["duration_s"] < 12 + 20
    assert "Run timed out" in (reports / "sleep" / "mixed" / "report.html").read_text()
    assert (reports / "sleep" / "mixed" / "notebook.ipynb").is_file()
    summary = (reports / "mixed" / "summary.html").read_text()
    assert (
        "<span class='failed'>failed</span>" in summary
        and "<span class='timed_out'>timed_out</span>" in summary
    )
    for stem in ("trivial", "fail", "sleep"):
        assert f"href='../{stem}/mixed/report.html'" in summary
    # runs listed in the batch file's order, not the order they finished in (sleep ends last)
    state = _json(reports / "mixed" / "batch.json")
    assert [Path(r["run_dir"]).parent.name for r in state["runs"]] == ["sleep", "trivial", "fail"]
    pos = [summary.index(f"href='../{stem}/mixed/report.html'") for stem in ("sleep", "trivial")]
    assert pos == sorted(pos)
    index = (reports / "index.html").read_text()
    assert index.count("<span class='failed'>failed</span>") == 1
    assert index.count("<span class='timed_out'>timed_out</span>") == 1
    assert "href='mixed/summary.html'" in index
    assert "ValueError: deliberate failure for x=1" in out.err

    # an unchanged run is skipped on the next batch, re-run with --force
    again = _write_batch(
        tmp_path / "again.yml", f"name: mixed\nnotebooks: [{nbdir}/trivial.ipynb]\n"
    )
    first = run_batch(again, progress=False)
    assert first.counts["skipped"] == 1 and first.ok
    assert _json(reports / "trivial" / "mixed" / "manifest.json")["started"] == trivial["started"]
    forced = run_batch(again, progress=False, force=True)
    assert forced.counts["skipped"] == 0 and forced.ok
    assert forced.outcomes[0].manifest["run_key"] == trivial["run_key"]


def test_data_fingerprint_recorded_for_synthetic_and_telco(nbdir, reports, tmp_path, telco_dir):
    from workbench.data import load_dataset

    batch = _write_batch(
        tmp_path / "data.yml",
        f"""
notebooks: {nbdir}/data.ipynb
runs:
  - {{n_customers: 600, seed: 2}}
  - {{dataset: telco, data_path: {telco_dir}}}
""",
    )
    result = run_batch(batch, workers=2, progress=False)
    assert result.ok, [o.manifest.get("error") for o in result.outcomes]
    expected = {
        600: load_dataset("synthetic", n_customers=600, seed=2).fingerprint,
        7043: load_dataset("telco", data_path=telco_dir).fingerprint,
    }
    for o in result.outcomes:
        recorded = _json(o.run_dir / "results.json")
        assert (
            o.manifest["dataset"]["fingerprint"]
            == recorded["fingerprint"]
            == expected[recorded["n"]]
        )


def test_interrupted_batch_resumes(nbdir, reports, tmp_path):
    batch = _write_batch(
        tmp_path / "resume.yml", f"notebooks: {nbdir}/trivial.ipynb\ngrid:\n  x: [1, 2, 3]\n"
    )
    env = dict(os.environ, WORKBENCH_REPORTS=str(reports))
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", "batch", str(batch), "--workers", "1", "--quiet"],
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = reports / "trivial" / "resume-x=1" / "manifest.json"
    deadline = time.time() + 180
    while time.time() < deadline and not (first.is_file() and _json(first)["status"] == "ok"):
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert "batch interrupted: finished runs are kept" in err.decode()
    assert _json(first)["status"] == "ok"
    third = reports / "trivial" / "resume-x=3" / "manifest.json"
    assert not third.is_file() or _json(third)["status"] != "ok"
    for x in (2, 3):  # a run stopped half-way says so; none is left "running"
        m = reports / "trivial" / f"resume-x={x}" / "manifest.json"
        assert not m.is_file() or _json(m)["status"] in ("interrupted", "ok")
    assert json.loads((reports / "resume" / "batch.json").read_text())["pending"] >= 1
    resumed = run_batch(batch, progress=False)
    assert resumed.ok and resumed.counts["skipped"] >= 1
    assert {o.run_name: o.skipped for o in resumed.outcomes}["resume-x=1"] is True
    assert [
        _json(reports / "trivial" / f"resume-x={x}" / "results.json")["x"] for x in (1, 2, 3)
    ] == [1, 2, 3]


def test_dask_executor_on_local_cluster(nbdir, reports, tmp_path):
    batch = _write_batch(
        tmp_path / "dask.yml", f"notebooks: {nbdir}/trivial.ipynb\ngrid:\n  x: [5, 6]\n"
    )
    result = run_batch(batch, workers=2, executor="dask", progress=False)
    assert result.ok and len(result.outcomes) == 2
    assert sorted(_json(o.run_dir / "results.json")["x"] for o in result.outcomes) == [5, 6]
    assert "dask-x=5/report.html" in (reports / "dask" / "summary.html").read_text()
