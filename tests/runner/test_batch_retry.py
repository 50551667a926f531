"""A worker killed mid-run: the run is retried once and marked, with real processes (no mocks):
the local pool, and a real ``dask scheduler`` + ``dask worker`` started by the test. Also: runs are
staged and published whole, and warm kernels give the same results as cold ones."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from workbench.runner.batch import run_batch
from workbench.runner.execute import execute_plan, plan_run

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _wait_for(cond, timeout: float, step: float = 0.2) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return False


def _staged_started(out: Path, run: str) -> bool:
    """The run is executing its cells (``record("started")`` wrote results.json in its staging)."""
    return any(out.glob(f".partial/*/sleep/{run}/results.json"))


def _marked(marker: str) -> list[int]:
    pids = []
    needle = f"WB_TEST_MARKER={marker}".encode()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if needle in (d / "environ").read_bytes():
                if (d / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    pids.append(int(d.name))
        except OSError:
            continue
    return pids


def _worker_of_run(out: Path, run: str) -> int | None:
    """The worker process executing a run, as its staged manifest names it (``host:pid``)."""
    for man in out.glob(f".partial/*/sleep/{run}/manifest.json"):
        try:
            return int(json.loads(man.read_text())["worker"].rsplit(":", 1)[1])
        except (OSError, ValueError, KeyError):
            continue
    return None


def _kill_worker_when_started(out: Path, run: str, killed: dict) -> None:
    def go():
        if _wait_for(lambda: _staged_started(out, run), 120):
            pid = _worker_of_run(out, run)
            if pid and pid != os.getpid():
                killed["pid"] = pid
                os.kill(pid, signal.SIGKILL)

    threading.Thread(target=go, daemon=True).start()


def _check_retried(out: Path, res, run: str) -> None:
    assert res.ok, [(o.run_name, o.status, o.manifest.get("error")) for o in res.outcomes]
    m = json.loads((out / "sleep" / run / "manifest.json").read_text())
    assert m["status"] == "ok" and m["attempt"] == 2
    assert "died before the run finished" in m["retried"]
    assert json.loads((out / "sleep" / run / "results.json").read_text()) == {
        "started": True,
        "finished": True,
    }
    summary = (out / "r" / "summary.html").read_text()
    assert "retried (attempt 2)" in summary and "1 retried after their worker died" in summary
    assert not (out / ".partial").exists()  # nothing staged is left behind


@pytest.mark.slow
def test_local_worker_killed_mid_run_is_retried_once_and_marked(tmp_path, nbdir, monkeypatch):
    marker = uuid.uuid4().hex
    monkeypatch.setenv("WB_TEST_MARKER", marker)
    out = tmp_path / "out"
    batch = tmp_path / "r.yml"
    batch.write_text(f"name: r\nnotebooks: {nbdir}/sleep.ipynb\nruns:\n  - {{seconds: 3}}\n")
    killed: dict = {}
    _kill_worker_when_started(out, "r", killed)
    res = run_batch(batch, out=out, workers=1, progress=False)
    assert killed.get("pid"), "the worker was not found"
    _check_retried(out, res, "r")
    assert _wait_for(lambda: not _run_processes(marker), 10), _run_processes(marker)  # no orphans


def _run_processes(marker: str) -> list[str]:
    """Workers, templates, papermill processes and kernels still alive (not multiprocessing's
    resource tracker, which lives as long as the test process)."""
    left = []
    for pid in _marked(marker):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "resource_tracker" not in cmd and pid != os.getpid():
            left.append(f"{pid}: {cmd[:120]}")
    return left


@pytest.mark.slow
def test_dask_worker_killed_mid_run_is_retried_once_and_marked(tmp_path, nbdir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    addr = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).with_name("dask"))
    marker = uuid.uuid4().hex
    env = dict(os.environ, PYTHONPATH=SRC, WB_TEST_MARKER=marker)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    sched = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **quiet
    )
    # a nanny restarts its worker process when it is killed
    worker = subprocess.Popen([dask, "worker", addr, "--nthreads", "1", "--no-dashboard"], **quiet)
    try:

        def accepting() -> bool:
            with socket.socket() as c:
                return c.connect_ex(("127.0.0.1", port)) == 0

        assert _wait_for(accepting, 60), "the dask scheduler did not start"
        out = tmp_path / "out"
        batch = tmp_path / "r.yml"
        batch.write_text(f"name: r\nnotebooks: {nbdir}/sleep.ipynb\nruns:\n  - {{seconds: 3}}\n")
        killed: dict = {}
        _kill_worker_when_started(out, "r", killed)
        res = run_batch(batch, out=out, executor="dask", scheduler=addr, progress=False)
        assert killed.get("pid"), "the worker was not found"
        _check_retried(out, res, "r")
    finally:
        for proc in (worker, sched):
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_staged_run_is_published_whole_and_attempts_counted(tmp_path, nbdir):
    """A staged folder left by an attempt whose worker died makes the next attempt a retry; after
    two attempts the run is failed without running, and the run folder appears only complete."""
    from workbench.runner.staging import STAGE_ALIVE, stage_dir

    out = tmp_path / "out"
    stage = out / ".partial" / "t"
    stage.mkdir(parents=True)
    (stage / STAGE_ALIVE).write_text("1")
    plan = plan_run(nbdir / "trivial.ipynb", {"x": 2}, run_name="t", out=out)
    dead = stage_dir(stage, plan)
    dead.mkdir(parents=True)
    (dead / "manifest.json").write_text(
        json.dumps({"attempt": 2, "worker": "h:1", "status": "running"})
    )
    res = execute_plan(plan, stage=stage)
    assert res.status == "failed" and res.manifest["attempt"] == 3
    assert res.manifest["error"]["ename"] == "WorkerLost"
    assert "died during each of 2 attempts" in res.report.read_text()
    assert res.run_dir == out / "trivial" / "t" and not dead.exists()
    # a batch that gave up (no STAGE_ALIVE): the finished run is dropped, nothing is published
    (stage / STAGE_ALIVE).unlink()
    plan2 = plan_run(nbdir / "trivial.ipynb", {"x": 3}, run_name="t2", out=out)
    from workbench.exceptions import RunError

    with pytest.raises(RunError, match="finished after its batch gave up"):
        execute_plan(plan2, stage=stage)
    assert not (out / "trivial" / "t2").exists() and not stage_dir(stage, plan2).exists()


@pytest.mark.slow
def test_warm_and_cold_kernels_give_the_same_results(tmp_path, nbdir, monkeypatch):
    """The same 2-run grid with kernels forked from the warm template and with cold kernels:
    identical results.json, and the warm runs say so in their manifests."""
    batch = tmp_path / "g.yml"
    batch.write_text(f"name: g\nnotebooks: {nbdir}/rich.ipynb\ngrid:\n  alpha: [0.05, 0.1]\n")
    warm = run_batch(batch, out=tmp_path / "warm", workers=2, progress=False)
    monkeypatch.setenv("WORKBENCH_COLD_KERNELS", "1")
    cold = run_batch(batch, out=tmp_path / "cold", workers=2, progress=False)
    assert warm.ok and cold.ok
    for o in warm.outcomes:
        assert o.manifest["timings"]["warm_kernel"] is True
        twin = tmp_path / "cold" / o.run_dir.relative_to(tmp_path / "warm")
        assert (o.run_dir / "results.json").read_bytes() == (twin / "results.json").read_bytes()
    assert all(o.manifest["timings"]["warm_kernel"] is False for o in cold.outcomes)
