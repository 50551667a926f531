"""Batches that lose nothing, with real processes (no mocks): concurrent writers, kill -9 of the
parent, resume, repeated and overridden entries, duplicate parameter sets, timeouts naming the
cell, an unreachable Dask scheduler."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from workbench.exceptions import BatchWarning, RunError
from workbench.runner.batch import load_batch, plan_batch, run_batch
from workbench.runner.execute import execute_plan, plan_run

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _write(tmp_path: Path, text: str, name: str = "b.yml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _batch_proc(batch: Path, out: Path, marker: str, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=SRC, WB_TEST_MARKER=marker)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "workbench.cli",
            "batch",
            str(batch),
            "--out",
            str(out),
            "--quiet",
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _marked(marker: str) -> list[int]:
    """Pids of live processes whose environment carries ``marker`` (the batch's descendants)."""
    pids = []
    needle = f"WB_TEST_MARKER={marker}".encode()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if needle in (d / "environ").read_bytes():
                stat = (d / "stat").read_text()
                if stat.rsplit(")", 1)[1].split()[0] != "Z":  # zombies are already dead
                    pids.append(int(d.name))
        except OSError:
            continue
    return pids


def _wait_for(cond, timeout: float, step: float = 0.2) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return False


def _running(out: Path) -> bool:
    """A run has started executing cells (its results exist, staged under ``.partial/<batch>/``
    while the run is in progress)."""
    return any(out.glob("sleep/*/results.json")) or any(out.glob(".partial/*/sleep/*/results.json"))


# ---------------------------------------------------------------------------------- entries
def test_repeated_notebook_runs_once_per_entry_and_glob_override_wins(tmp_path, nbdir):
    p = _write(
        tmp_path,
        f"notebooks:\n"
        f"  - {nbdir}/trivial.ipynb\n"
        f"  - {{path: {nbdir}/trivial.ipynb, parameters: {{x: 5}}}}\n"
        f"  - {nbdir}/[st]*.ipynb\n"
        f"  - {{path: {nbdir}/sleep.ipynb, parameters: {{seconds: 0.5}}, timeout: 30}}\n",
    )
    plans = plan_batch(load_batch(p), out=tmp_path / "r")
    trivial = sorted(
        (pl.run_name, pl.given.get("x")) for pl in plans if pl.notebook.stem == "trivial"
    )
    assert trivial == [("b-entry1", None), ("b-x=5", 5)]
    sleep = [pl for pl in plans if pl.notebook.stem == "sleep"]
    assert len(sleep) == 1 and sleep[0].given == {"seconds": 0.5} and sleep[0].timeout == 30


def test_duplicate_parameter_sets_merged_with_a_warning(tmp_path, nbdir):
    p = _write(
        tmp_path,
        f"notebooks: {nbdir}/trivial.ipynb\nruns:\n  - {{factor: 0.05}}\n  - {{factor: 0.050}}\n"
        "  - {factor: 1}\n  - {factor: 1.0}\n",
    )
    with pytest.warns(BatchWarning, match=r"has the same parameters as run 'b-factor=0.05'"):
        plans = plan_batch(load_batch(p), out=tmp_path / "r")
    assert sorted(pl.given["factor"] for pl in plans) == [0.05, 1.0]


# ---------------------------------------------------------------------------------- writers
@pytest.mark.slow
def test_second_writer_refused_with_holders_pid_then_waits(tmp_path, nbdir):
    out = tmp_path / "r"
    a = _write(
        tmp_path, f"name: a\nnotebooks: {nbdir}/sleep.ipynb\nparameters: {{seconds: 3}}\n", "a.yml"
    )
    b = _write(tmp_path, f"name: b\nnotebooks: {nbdir}/trivial.ipynb\n", "b.yml")
    first = _batch_proc(a, out, uuid.uuid4().hex)
    try:
        assert _wait_for(
            lambda: (out / ".workbench.lock").is_file() and (out / ".workbench.lock").read_text(),
            60,
        )
        with pytest.raises(RunError, match=rf"being written by batch 'a' \(pid {first.pid}"):
            run_batch(b, out=out, progress=False)
        waited = run_batch(b, out=out, progress=False, lock_wait=120)  # waits for a, then runs
        assert waited.ok and first.wait(60) == 0
    finally:
        first.kill()
    for name in ("a", "b"):
        assert json.loads((out / name / "batch.json").read_text())["pending"] == 0


# ---------------------------------------------------------------------------------- kill -9
@pytest.mark.slow
def test_kill_9_leaves_no_orphans_and_next_run_resumes(tmp_path, nbdir):
    out = tmp_path / "r"
    p = _write(
        tmp_path,
        f"name: k\nnotebooks: {nbdir}/sleep.ipynb\nworkers: 2\ngrid: {{seconds: [60, 61, 62]}}\n",
    )
    marker = uuid.uuid4().hex
    proc = _batch_proc(p, out, marker)
    try:
        assert _wait_for(lambda: _running(out), 90), (
            proc.stderr.read() if proc.poll() else "no run started"
        )
        assert len(_marked(marker)) >= 4  # batch, 2 workers, their papermill children, kernels
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        t0 = time.monotonic()
        gone = _wait_for(lambda: not _marked(marker), 10)
        left = _marked(marker)
        assert gone, f"orphans after {time.monotonic() - t0:.1f} s: {left}"
    finally:
        for pid in _marked(marker):
            os.kill(pid, signal.SIGKILL)
    # resume: the same batch with short sleeps; every run completes (none marked ok before)
    p.write_text(p.read_text().replace("[60, 61, 62]", "[0.1, 0.2, 0.3]"))
    res = run_batch(p, out=out, progress=False)
    assert res.ok and res.counts["ok"] == 3


# ---------------------------------------------------------------------------------- timeouts
@pytest.mark.slow
def test_timed_out_report_names_the_running_cell(tmp_path, nbdir):
    plan = plan_run(nbdir / "sleep.ipynb", {"seconds": 60.0}, run_name="t", out=tmp_path / "r")
    out = execute_plan(plan, timeout=20)  # kernel start + imports under load, then the sleep
    assert out.status == "timed_out"
    err = out.manifest["error"]
    assert err["cell_index"] == 4 and "time.sleep(seconds)" in err["source"]
    assert "time.sleep(seconds)" in out.report.read_text()
    assert "stopped in cell 5 (`time.sleep(seconds)`)" in err["evalue"]


# ---------------------------------------------------------------------------------- dask
def _one_paragraph_error(stderr: str, expected: str) -> None:
    """What the user reads: one ``workbench: error:`` paragraph, no traceback, no log lines."""
    assert "Traceback" not in stderr and " - ERROR - " not in stderr, stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("workbench: error: "), stderr
    assert expected in lines[0], stderr


def test_unreachable_dask_scheduler_clear_error_fast_nothing_written(tmp_path, nbdir):
    out = tmp_path / "r"
    p = _write(tmp_path, f"notebooks: {nbdir}/trivial.ipynb\n")
    t0 = time.monotonic()
    with pytest.raises(RunError, match=r"Dask scheduler at 'tcp://127.0.0.1:9' did not answer"):
        run_batch(p, out=out, executor="dask", scheduler="tcp://127.0.0.1:9", progress=False)
    assert time.monotonic() - t0 < 10
    assert not out.exists()
    # the command line: one paragraph naming the address and what to do, exit status 1
    proc = _batch_proc(
        p, out, uuid.uuid4().hex, "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"
    )
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    _one_paragraph_error(err, "the Dask scheduler at 'tcp://127.0.0.1:9' did not answer")
    assert "`dask scheduler`" in err and "Nothing was run or written" in err
    assert not out.exists()


def test_address_of_another_kind_of_server_refused_within_the_deadline(tmp_path, nbdir):
    """A port where something else listens (here: a server that accepts and says nothing, as an
    HTTP server does until it is asked): Dask's own client would wait on it without end."""
    import socket
    import threading

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    held = []
    threading.Thread(target=lambda: held.append(srv.accept()), daemon=True).start()
    addr = f"tcp://127.0.0.1:{srv.getsockname()[1]}"
    out = tmp_path / "r"
    p = _write(tmp_path, f"notebooks: {nbdir}/trivial.ipynb\n")
    t0 = time.monotonic()
    try:
        with pytest.raises(RunError, match=r"not a Dask scheduler \(no Dask handshake within"):
            run_batch(p, out=out, executor="dask", scheduler=addr, progress=False)
        assert time.monotonic() - t0 < 10
        assert not out.exists()
    finally:
        srv.close()


@pytest.mark.slow
def test_dying_dask_scheduler_clear_error_within_10_s(tmp_path, nbdir):
    """A real ``dask scheduler`` + ``dask worker``; the scheduler is killed mid-run while
    ``workbench batch`` waits for it: one paragraph within 10 s, and the reports folder the batch
    created is gone (no summary, no state, no staged run, no lock file), even after the worker,
    still running the notebook, gives up."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    addr = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).with_name("dask"))
    env = dict(os.environ, PYTHONPATH=SRC)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    sched = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **quiet
    )
    worker = subprocess.Popen([dask, "worker", addr, "--nthreads", "1", "--no-dashboard"], **quiet)

    def accepting() -> bool:
        with socket.socket() as c:
            return c.connect_ex(("127.0.0.1", port)) == 0

    try:
        assert _wait_for(accepting, 60), "the dask scheduler did not start"
        out = tmp_path / "r"
        p = _write(tmp_path, f"notebooks: {nbdir}/sleep.ipynb\nparameters: {{seconds: 8}}\n")
        proc = _batch_proc(p, out, uuid.uuid4().hex, "--executor", "dask", "--scheduler", addr)
        assert _wait_for(lambda: _running(out), 120), proc.communicate()[1]
        sched.kill()
        t_kill = time.monotonic()
        _, err = proc.communicate(timeout=60)
        assert time.monotonic() - t_kill < 10 + 2  # + the test's polling
        assert proc.returncode == 1
        _one_paragraph_error(err, f"the Dask scheduler at {addr} stopped answering")
        assert not out.exists(), sorted(x.relative_to(out).as_posix() for x in out.rglob("*"))
        time.sleep(10)  # the run's 8 s sleep ends on the worker: it publishes nothing
        assert not out.exists(), sorted(x.relative_to(out).as_posix() for x in out.rglob("*"))
    finally:
        for proc in (sched, worker):
            proc.kill()
            proc.wait(10)
