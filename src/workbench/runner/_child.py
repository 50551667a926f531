"""The papermill child process of one run: ``python _child.py '<json spec>'``.

Run as a plain script (not ``-m workbench...``) so that it imports papermill only, not the
workbench package and its scientific stack: every run pays this start-up. The spec holds input,
output, parameters, kernel name and working directory. Exit 0: executed; 1: a cell raised or the
kernel failed (details in ``<run dir>/.error.json``). SIGTERM (the runner's timeout) raises
SystemExit so nbclient shuts the kernel down on the way out.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

ERROR_FILE = ".error.json"
RUNNING_FILE = ".running_cell.json"


def fast_imports() -> None:
    """Keep ``rfc3987_syntax`` out: jsonschema (imported by nbformat) loads it when installed and it
    compiles a grammar for seconds at import; nbformat never checks the formats it serves."""
    sys.modules.setdefault("rfc3987_syntax", None)


def note_running_cell(output: Path) -> None:
    """On the runner's SIGTERM (timeout): note which cell was running, read from the notebook
    papermill saved when that cell started (papermill marks every cell completed on the way out,
    so the report could not tell otherwise). Written to ``<run dir>/.running_cell.json``."""
    try:
        nb = json.loads(output.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb.get("cells", [])):
            pm = cell.get("metadata", {}).get("papermill", {})
            if pm.get("status") == "running":
                src = cell.get("source", "")
                (output.parent / RUNNING_FILE).write_text(
                    json.dumps(
                        {
                            "cell_index": i,
                            "source": src if isinstance(src, str) else "".join(src),
                            "start_time": pm.get("start_time"),
                        }
                    )
                )
                return
    except (OSError, ValueError):
        return


def main(spec_json: str) -> int:
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p and Path(p).resolve() != Path(here)]  # no shadowing

    spec = json.loads(spec_json)

    def _term(signum, frame):
        note_running_cell(Path(spec["output"]))
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _term)
    fast_imports()
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    extra = {}
    if spec.get("warm"):  # a worker's template forks the kernel (see _warm.py)
        import importlib.util
        import os

        loader = importlib.util.spec_from_file_location("_workbench_warm", Path(here, "_warm.py"))
        warm = importlib.util.module_from_spec(loader)
        loader.loader.exec_module(warm)
        os.environ[warm.SOCKET_ENV] = spec["warm"]
        extra["kernel_manager_class"] = warm.WarmKernelManager
    err_path = Path(spec["output"]).parent / ERROR_FILE
    try:
        pm.execute_notebook(
            spec["input"],
            spec["output"],
            parameters=spec["parameters"],
            kernel_name=spec["kernel_name"],
            cwd=spec["cwd"],
            progress_bar=False,
            log_output=False,
            start_timeout=120,
            shutdown_kernel="immediate",  # outputs are in; waiting for a polite exit is ~0.5 s
            **extra,
        )
    except PapermillExecutionError as e:
        err_path.write_text(
            json.dumps(
                {
                    "cell_index": e.cell_index,
                    "execution_count": e.exec_count,
                    "source": e.source,
                    "ename": e.ename,
                    "evalue": e.evalue,
                },
                default=str,
            )
        )
        return 1
    except Exception as e:  # kernel died, unreadable notebook, ...
        err_path.write_text(json.dumps({"ename": type(e).__name__, "evalue": str(e)}, default=str))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
