"""Run lifelines' own CoxPH tests against ``EngineCoxPHFitter`` (the engine behind lifelines' API).

Usage: ``.venv/bin/python benchmarks/lifelines_coxph_suite.py [workdir]`` (about 5 minutes).

Downloads the lifelines sdist of the installed version (``pip download --no-binary :all:``), copies
its ``lifelines/tests/test_estimation.py``, rebinds the names ``CoxPHFitter`` and
``SemiParametricPHFitter`` in that module to ``EngineCoxPHFitter`` and its semi-parametric fitter,
and runs the test classes whose names start with ``TestCoxPHFitter`` (``TestCoxPHFitter``,
``TestCoxPHFitter_SemiParametric``, ``TestCoxPHFitterPieces``). The ``flaky`` retry decorator is
replaced by a no-op, so each test runs once. Prints pytest's summary line.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import lifelines

SHIM = """def flaky(*args, **kwargs):
    if args and callable(args[0]) and not kwargs:
        return args[0]
    return lambda f: f
"""
REBIND = (
    "\n# --- workbench: the CoxPH tests run against the engine-backed fitter\n"
    "from workbench.survival._engine_lifelines import EngineCoxPHFitter as CoxPHFitter  # noqa\n"
    "from workbench.survival._engine_lifelines import (  # noqa\n"
    "    _EngineSemiParametricPHFitter as SemiParametricPHFitter,\n"
    ")\n"
)


def main(workdir: Path) -> int:
    version = lifelines.__version__
    workdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
         f"lifelines=={version}", "-d", str(workdir), "-q"],
        check=True,
    )  # fmt: skip
    with tarfile.open(workdir / f"lifelines-{version}.tar.gz") as tar:
        member = f"lifelines-{version}/lifelines/tests/test_estimation.py"
        text = tar.extractfile(member).read().decode()
    m = re.search(r"\n(?=(@pytest|def |class ))", text)  # end of the module's imports
    text = text[: m.start()] + REBIND + text[m.start() :]
    (workdir / "test_estimation.py").write_text(text)
    (workdir / "flaky.py").write_text(SHIM)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
           "test_estimation.py", "-k", "TestCoxPHFitter", "-rf"]  # fmt: skip
    env_path = f"{workdir}:{Path(__file__).resolve().parents[1] / 'src'}"
    import os

    env = {**os.environ, "PYTHONPATH": env_path + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(cmd, cwd=workdir, env=env).returncode


if __name__ == "__main__":
    where = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="llsuite-"))
    sys.exit(main(where))
