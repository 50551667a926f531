"""``workbench`` command line: ``workbench data ...`` here; ``run | batch | reports`` from the runner.

Errors of the workbench's own kind print one clear line (no traceback) and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .exceptions import WorkbenchError


def _data_generate(args) -> int:
    from .data import simulate, write_parquet

    frame, truth = simulate(args.n, args.seed)
    out = Path(args.out)
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
    ds = validate(read_table(args.path), spec, source=str(args.path))
    print(f"ok: {ds.n:,} customers, {ds.events:,} churned; fingerprint {ds.fingerprint}")
    for e in ds.exclusions:
        print(
            f"excluded {e['n_rows']:,} rows: {e['rule']} ({e['column']}); first ids {e['examples']}"
        )
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
    p = argparse.ArgumentParser(prog="workbench", description="Retention Workbench command line.")
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

    try:  # the runner's commands: run, batch, reports
        from .runner.cli import register
    except ImportError:  # pragma: no cover - runner not installed yet
        register = None
    if register is not None:
        register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except WorkbenchError as e:
        print(f"workbench: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
