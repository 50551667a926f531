"""The kernel a researcher gets in JupyterLab is the one tested.

Starts a headless Jupyter server on 127.0.0.1 with a token (what `make lab` serves), starts the
project's ``workbench`` kernel (registered by `make` with ``ipykernel install --sys-prefix --name
workbench``) through the REST API, and runs a notebook's code cells over the kernel websocket, with
a parameter injected the way papermill does it; asserts on what ``workbench.record`` wrote.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow
KERNEL = "workbench"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, method: str = "GET", body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")


async def _execute(ws_url: str, cells: list[str]) -> list[dict]:
    from tornado.websocket import websocket_connect

    ws = await websocket_connect(ws_url)
    session = uuid.uuid4().hex
    replies = []
    for code in cells:
        msg_id = uuid.uuid4().hex
        await ws.write_message(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "username": "test",
                        "session": session,
                        "msg_type": "execute_request",
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "channel": "shell",
                    "buffers": [],
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": True,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                }
            )
        )
        while True:
            raw = await asyncio.wait_for(ws.read_message(), timeout=120)
            assert raw is not None, "kernel websocket closed"
            msg = json.loads(raw)
            if (
                msg.get("parent_header", {}).get("msg_id") == msg_id
                and msg["msg_type"] == "execute_reply"
            ):
                replies.append(msg["content"])
                break
    ws.close()
    return replies


def test_notebook_runs_in_the_jupyter_server_kernel(tmp_path, nbdir):
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    if KERNEL not in specs:
        pytest.fail(
            f"the '{KERNEL}' kernel is not installed (make registers it); found {sorted(specs)}"
        )
    port, token = _free_port(), secrets.token_hex(16)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = dict(
        os.environ, WORKBENCH_RUN_DIR=str(run_dir), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime")
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={tmp_path}",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                _get(f"{base}/api/status?token={token}")
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                assert time.time() < deadline, "jupyter server did not start within 90 s"
                time.sleep(0.5)
        kernel = _get(f"{base}/api/kernels?token={token}", "POST", {"name": KERNEL})
        assert kernel["name"] == KERNEL
        nb = nbformat.read(str(nbdir / "trivial.ipynb"), as_version=4)
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        # the parameters cell, then an injected override (as papermill does), then the rest
        cells = [
            code[0],
            "x = 7",
            *code[1:],
            "import sys; workbench.record('executable', sys.executable)",
        ]
        ws_url = f"ws://127.0.0.1:{port}/api/kernels/{kernel['id']}/channels?token={token}"
        replies = asyncio.run(_execute(ws_url, cells))
        assert [r["status"] for r in replies] == ["ok"] * len(cells), replies
        results = json.loads((run_dir / "results.json").read_text())
        assert results["x"] == 7 and results["label"] == "a" and results["items"] == [1, 2]
        assert Path(results["executable"]).resolve() == Path(sys.executable).resolve()
        _get(f"{base}/api/kernels/{kernel['id']}?token={token}", "DELETE")
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
