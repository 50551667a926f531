"""``workbench`` command line: ``workbench data ...`` here; ``run | batch | reports`` from the runner.

One front door for errors: whatever goes wrong, the user reads one paragraph (what, where, the
fix) and never a Python traceback; ``--debug`` (anywhere on the line, or ``WORKBENCH_DEBUG=1``)
adds the traceback. Exit codes: 0 done; 1 an analysis or run failed (or an unexpected error);
2 the input was wrong (data file, spec, parameters, batch file, options); 130 interrupted.
Warnings print as ``workbench: warning (Class): message``, without source lines.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from .exceptions import (
    DatasetNotFoundError,
    DataValidationError,
    ParameterError,
    SpecError,
    WorkbenchError,
)

USER_ERRORS = (SpecError, DataValidationError, DatasetNotFoundError, ParameterError)
GENERATE_SUFFIXES = (".parquet", ".pq", ".csv")


def _data_generate(args) -> int:
    from .data import simulate, write_parquet

    out = Path(args.out)
    if out.suffix.lower() not in GENERATE_SUFFIXES:
        raise ParameterError(
            f"--out '{out}': unknown file type '{out.suffix or '(no suffix)'}'; `data generate` "
            f"writes {', '.join(GENERATE_SUFFIXES)} files. Use e.g. --out data/synthetic.parquet."
        )
    if args.truth and Path(args.truth).suffix.lower() != ".json":
        raise ParameterError(
            f"--truth '{args.truth}': the truth is written as JSON; give a .json path."
        )
    frame, truth = simulate(args.n, args.seed)
    if out.suffix.lower() == ".csv":
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out, index=False)
    else:
        write_parquet(frame, out)
    if args.truth:
        import json

        from .results import to_jsonable

        Path(args.truth).write_text(json.dumps(to_jsonable(truth), indent=1))
    print(f"wrote {len(frame):,} simulated customers (seed {args.seed}) to {out}")
    return 0


def _data_validate(args) -> int:
    from .data import RoleSpec, read_table, validate

    spec = RoleSpec.from_yaml(args.spec)
    frame = read_table(args.path, encoding=spec.encoding, sep=spec.sep)
    ds = validate(frame, spec, source=str(args.path))
    print(f"ok: {ds.n:,} customers, {ds.events:,} churned; fingerprint {ds.fingerprint}")
    for e in ds.exclusions:  # counts only: customer ids never appear in CLI messages
        print(f"excluded {e['n_rows']:,} rows: {e['rule']} ({e['column']})")
    if ds.tenure_grid:
        g = ds.tenure_grid
        print(f"tenure grid: {g['step_name']} ({g['n_distinct']} distinct values)")
    return 0


def _data_describe(args) -> int:
    from .data import load_dataset

    kw = {}
    if args.dataset == "synthetic":
        kw = {"n_customers": args.n, "seed": args.seed}
    ds = load_dataset(args.dataset, data_path=args.data_path, spec_path=args.spec, **kw)
    print(ds.describe().to_string(index=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="workbench",
        description="Retention Workbench command line.",
        epilog="--debug (anywhere) shows the Python traceback of an error.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="generate, validate and describe customer data")
    dsub = data.add_subparsers(dest="data_command", required=True)
    g = dsub.add_parser("generate", help="write the synthetic customer base to Parquet or CSV")
    g.add_argument("--n", type=int, default=20_000, help="number of customers (default 20,000)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--out", default="data/synthetic.parquet", help=".parquet or .csv path")
    g.add_argument("--truth", default=None, help="also write the truth as JSON to this path")
    g.set_defaults(func=_data_generate)
    v = dsub.add_parser("validate", help="validate a CSV/Parquet file against a role spec")
    v.add_argument("path")
    v.add_argument("--spec", required=True, help="YAML role spec (see data/README.md)")
    v.set_defaults(func=_data_validate)
    d = dsub.add_parser("describe", help="counts, events, censoring, tenure range, roles found")
    d.add_argument("--dataset", default="synthetic", help="synthetic | telco | file")
    d.add_argument("--data-path", default=None)
    d.add_argument("--spec", default=None)
    d.add_argument("--n", type=int, default=20_000)
    d.add_argument("--seed", type=int, default=0)
    d.set_defaults(func=_data_describe)
    from .data.from_events import register_cli as _register_from_events

    _register_from_events(dsub)

    try:  # the runner's commands: run, batch, reports
        from .runner.cli import register
    except ImportError:  # pragma: no cover - runner not installed yet
        register = None
    if register is not None:
        register(sub)
    return p


def _exit_code(e: BaseException) -> int:
    if isinstance(e, USER_ERRORS):
        return 2
    if isinstance(e, (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)):
        return 2
    if isinstance(e, UnicodeError):
        return 2
    return 1


def explain(e: BaseException) -> str:
    """One paragraph for any exception: what went wrong, where, and what to do."""
    if isinstance(e, WorkbenchError):
        return f"workbench: error: {e}"
    if isinstance(e, (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)):
        what = {
            FileNotFoundError: "does not exist",
            IsADirectoryError: "is a folder where a file was expected",
            NotADirectoryError: "is a file where a folder was expected",
            PermissionError: "cannot be accessed (permission denied)",
        }.get(type(e), "cannot be used")
        return (
            f"workbench: error: '{e.filename or ''}' {what}. Check the path (relative paths start "
            f"from '{Path.cwd()}') and its permissions."
        )
    if isinstance(e, UnicodeError):
        return (
            f"workbench: error: a file is not in the expected text encoding ({e}). Save it as "
            "UTF-8, or for data files set `encoding:` in the spec (e.g. `encoding: latin-1`)."
        )
    if isinstance(e, MemoryError):
        return (
            "workbench: error: out of memory. Use a smaller data set or a DuckDB query that "
            "filters rows before loading (dataset 'duckdb')."
        )
    first = str(e).strip().splitlines()[0][:300] if str(e).strip() else "(no message)"
    return (
        f"workbench: unexpected error {type(e).__name__}: {first}. This is a bug in the workbench or "
        "an input it does not yet check: run the same command with --debug for the traceback and "
        "report it with the input that caused it."
    )


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"workbench: warning ({category.__name__}): {message}", file=file or sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (see module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("WORKBENCH_DEBUG", "") not in ("", "0")
    argv = [a for a in argv if a != "--debug"]
    args = build_parser().parse_args(argv)  # usage errors: argparse prints usage, exits 2
    old_show = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("workbench: interrupted.", file=sys.stderr)
        return 130
    except Exception as e:  # the front door: one paragraph, never a traceback unless --debug
        if debug:
            import traceback

            traceback.print_exc()
        print(explain(e), file=sys.stderr)
        return _exit_code(e)
    finally:
        warnings.showwarning = old_show


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
