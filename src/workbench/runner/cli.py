"""``workbench run | batch | reports``: registered on the main parser by :func:`register`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..exceptions import ParameterError


def positive_seconds(text: str) -> float:
    """argparse type of ``--timeout``: a number of seconds > 0 (0 or less would stop every run)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds, got {text!r} (e.g. --timeout 900)"
        ) from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(
            f"must be a positive number of seconds, got {text!r}; give e.g. --timeout 900 "
            "(15 minutes)"
        )
    return value


def positive_int(text: str) -> int:
    """argparse type of ``--workers``: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _run(args) -> int:
    from .execute import run_notebook
    from .index import write_index
    from .parameters import load_params_file, parse_cli_value, read_parameters, valid_list

    if args.list_parameters:
        declared = read_parameters(args.notebook)
        if not declared:
            print(valid_list(declared))
        for p in declared.values():
            print(p.describe())
        return 0
    params: dict = {}
    if args.params_file:
        params.update(load_params_file(args.params_file))
    for name, value in args.param or []:
        params[name] = parse_cli_value(value)
    outcome = run_notebook(
        args.notebook,
        params,
        out=args.out,
        run_name=args.name,
        timeout=args.timeout,
        show_code=args.show_code,
        kernel_name=args.kernel,
    )
    write_index(outcome.run_dir.parents[1])
    if getattr(args, "pdf", False):
        from .pdf import export_pdf

        print(f"pdf: {export_pdf(outcome.run_dir / 'report.html')}")
    err = outcome.manifest.get("error") or {}
    line = f"{outcome.status}: {outcome.run_dir / 'report.html'} ({outcome.duration_s:.1f} s)"
    if outcome.ok:
        print(line)
        return 0
    print(f"{line}\n{err.get('ename', '')}: {err.get('evalue', '')}", file=sys.stderr)
    return 1


def _batch(args) -> int:
    from .batch import run_batch

    try:
        result = run_batch(
            args.batch_file,
            workers=args.workers,
            executor=args.executor,
            scheduler=args.scheduler,
            force=args.force,
            out=args.out,
            timeout=args.timeout,
            progress=not args.quiet,
            lock_wait=args.wait,
        )
    except KeyboardInterrupt:
        print(
            "batch interrupted: finished runs are kept; run the same command again to resume "
            "(unchanged runs are skipped).",
            file=sys.stderr,
        )
        return 130
    c = result.counts
    print(
        f"batch {result.name}: {len(result.outcomes)} runs in {result.duration_s:.1f} s - {c['ok']} ok "
        f"({c['skipped']} unchanged, skipped), {c['failed']} failed, {c['timed_out']} timed out"
    )
    for o in result.outcomes:
        if not o.ok:
            err = o.manifest.get("error") or {}
            print(
                f"  {o.status}: {o.notebook} [{o.run_name}] {err.get('ename', '')}: "
                f"{str(err.get('evalue', ''))[:200]}  -> {o.report}",
                file=sys.stderr,
            )
    if getattr(args, "pdf", False):
        from .pdf import export_pdf

        for o in result.outcomes:
            if Path(o.report).is_file():
                export_pdf(o.report)
        print(f"pdf:     report.pdf beside each of the {len(result.outcomes)} reports")
    print(f"summary: {result.summary_path}")
    if result.index_path:
        print(f"index:   {result.index_path}")
    return 0 if result.ok else 1


def _reports(args) -> int:
    from ..config import reports_dir
    from .index import write_index

    root = Path(args.out).expanduser().resolve() if args.out else reports_dir()
    if not root.is_dir():
        raise ParameterError(
            f"reports folder '{root}' does not exist; run `workbench batch` first."
        )
    path = write_index(root)
    print(f"index: {path}")
    return 0


def register(subparsers) -> None:
    """Add ``run``, ``batch`` and ``reports`` to the ``workbench`` command line."""
    r = subparsers.add_parser(
        "run",
        help="run one notebook with parameters -> reports/<notebook>/<run>/",
        description="Run a notebook with papermill in a child process and publish its report.",
    )
    r.add_argument("notebook", help="path to a .ipynb with a 'parameters'-tagged cell")
    r.add_argument(
        "-p",
        "--param",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="a parameter; VALUE is read as YAML (12, 0.1, true, [6, 12], text)",
    )
    r.add_argument("-f", "--params-file", help="YAML file of name: value")
    r.add_argument("--out", help="reports root (default: reports/, env WORKBENCH_REPORTS)")
    r.add_argument("--name", help="run folder name (default: timestamp + parameters)")
    r.add_argument(
        "--timeout", type=positive_seconds, default=900.0, help="wall-clock limit in seconds (900)"
    )
    r.add_argument("--show-code", action="store_true", help="show code cells in the report")
    r.add_argument(
        "--pdf", action="store_true", help="also print the report to report.pdf (Chromium)"
    )
    r.add_argument("--kernel", default="python3", help="Jupyter kernel (python3)")
    r.add_argument(
        "--list-parameters", action="store_true", help="print the declared parameters and exit"
    )
    r.set_defaults(func=_run)

    b = subparsers.add_parser(
        "batch",
        help="run notebooks x a parameter grid; summary.html and index.html",
        description="Run a batch file (see workbench.runner.batch) in separate processes.",
    )
    b.add_argument("batch_file", help="YAML batch file, e.g. batches/default.yml")
    b.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="runs in parallel (default: file, else 1)",
    )
    b.add_argument("--executor", choices=("local", "dask"), default="local")
    b.add_argument("--scheduler", default=None, help="address of a running Dask scheduler")
    b.add_argument("--force", action="store_true", help="re-run unchanged runs too")
    b.add_argument("--out", help="reports root (default: reports/, env WORKBENCH_REPORTS)")
    b.add_argument(
        "--timeout",
        type=positive_seconds,
        default=None,
        help="per-run limit in seconds > 0 (default: file, else 900)",
    )
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another batch writing the same --out (default: refuse at once)",
    )
    b.add_argument(
        "--pdf", action="store_true", help="also print every report to report.pdf (Chromium)"
    )
    b.set_defaults(func=_batch)

    i = subparsers.add_parser("reports", help="rebuild reports/index.html from the run folders")
    i.add_argument("--out", help="reports root (default: reports/, env WORKBENCH_REPORTS)")
    i.set_defaults(func=_reports)


if __name__ == "__main__":  # pragma: no cover
    p = argparse.ArgumentParser(prog="workbench")
    register(p.add_subparsers(dest="command", required=True))
    a = p.parse_args()
    sys.exit(a.func(a))
