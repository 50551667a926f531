"""Packaging habits: environment.yml agrees with pyproject; notebooks are stored clean."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _name(req: str) -> str:
    return re.split(r"[\[<>=!~; ]", req, maxsplit=1)[0].strip().lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    py = tomllib.loads((ROOT / "pyproject.toml").read_text())
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python"))
    assert python.split("=")[1] == "3.11"
    assert py["project"]["requires-python"] == ">=3.11"
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    assert "-e .[dev]" in pip and "-c constraints.txt" in pip


def test_every_dependency_is_pinned_in_constraints():
    py = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line:
            n, v = line.split("==")
            pins[n.strip().lower().replace("_", "-")] = v.strip()
    reqs = py["project"]["dependencies"] + sum(py["project"]["optional-dependencies"].values(), [])
    missing = [r for r in reqs if _name(r) not in pins]
    assert not missing, f"add pins for {missing} to constraints.txt (pip freeze of the tested venv)"


def test_notebooks_are_stored_without_outputs_and_have_a_parameters_cell():
    nbs = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    for p in nbs:
        nb = json.loads(p.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), (
            f"{p.name} has outputs"
        )
        assert "parameters" in code[0].get("metadata", {}).get("tags", []), (
            f"{p.name}: first code cell untagged"
        )
