"""Staging of batch runs: a run folder appears complete, or not at all.

A batch writes each run into ``<out>/.partial/<token>/<notebook>/<run>/`` (:func:`stage_dir`) and
moves it to ``<out>/<notebook>/<run>/`` in one rename when the run is complete
(:func:`publish`). So a worker killed mid-run, a scheduler lost mid-batch, or ``kill -9`` of the
batch leaves no half-written run folder; the staged folder of a run whose worker died tells the
next attempt that it is a retry (:data:`MAX_ATTEMPTS`). While a batch waits for its runs its
staging folder holds :data:`STAGE_ALIVE`; a batch that gives up removes it first, so a run that
finishes later on a surviving worker drops its outputs instead of publishing them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..exceptions import ParameterError, RunError
from . import manifest as mf

MAX_ATTEMPTS = 2  # a run whose worker dies is retried once
STAGE_DIR = ".partial"
STAGE_ALIVE = "BATCH_ALIVE"


def stage_root(out_root: Path, token: str) -> Path:
    """A batch's staging folder, ``<out>/.partial/<token>``, holding :data:`STAGE_ALIVE` while the
    batch waits for its runs."""
    return Path(out_root) / STAGE_DIR / token


def stage_dir(stage: Path, plan) -> Path:
    """Where ``plan`` (a :class:`~workbench.runner.execute.RunPlan`) is staged."""
    return Path(stage) / plan.notebook.stem / plan.run_name


def publish(run_dir: Path, final_dir: Path, stage: Path) -> None:
    """Move a complete staged run into place (one rename; the old run folder is removed first)."""
    if not (Path(stage) / STAGE_ALIVE).is_file():
        shutil.rmtree(run_dir, ignore_errors=True)
        raise RunError(
            f"run '{final_dir.name}' finished after its batch gave up; its outputs were dropped."
        )
    if final_dir.exists():
        check_replaceable(final_dir)
        shutil.rmtree(final_dir)
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    os.rename(run_dir, final_dir)


def check_replaceable(run_dir: Path) -> None:
    """Only a folder the workbench created (a run folder with its manifest) may be replaced.

    Raises
    ------
    ParameterError
        ``run_dir`` is a file, or a folder without a workbench manifest (the user's own folder).
    """
    if run_dir.is_dir():
        m = mf.read_manifest(run_dir)
        if m and "run_key" in m:
            return
        what = f"folder '{run_dir}' exists and was not created by a workbench run (no manifest)"
    else:
        what = f"'{run_dir}' exists and is a file"
    raise ParameterError(
        f"{what}; the workbench never deletes what it did not create. Choose another run name "
        "(`--name`) or another `--out`, or move that folder away yourself."
    )


def open_stage(out_root: Path, token: str) -> Path:
    """Create the batch's staging folder (with :data:`STAGE_ALIVE`), after removing the staging
    folders of earlier batches on this reports folder (the caller holds its lock, so those batches
    are gone; a late run of theirs finds no :data:`STAGE_ALIVE` and drops its outputs)."""
    parent = Path(out_root) / STAGE_DIR
    if parent.is_dir():
        for old in parent.iterdir():
            shutil.rmtree(old, ignore_errors=True)
    stage = stage_root(out_root, token)
    stage.mkdir(parents=True)
    (stage / STAGE_ALIVE).write_text(str(os.getpid()))
    return stage


def close_stage(stage: Path) -> None:
    """Give up the staging folder: first :data:`STAGE_ALIVE` (no run publishes after this), then
    whatever is still staged (runs that never finished)."""
    stage = Path(stage)
    (stage / STAGE_ALIVE).unlink(missing_ok=True)
    shutil.rmtree(stage, ignore_errors=True)
    try:
        stage.parent.rmdir()  # .partial, when no other batch's folder is left in it
    except OSError:
        pass
