"""Monte Carlo study of the observational effect estimators against the simulator's own truth.

Each replication draws a fresh built-in customer base (``simulate(n, seed=r, targeting=...)``), runs
notebook 04's estimators on the confounded loyalty programme with notebook 04's default confounders,
under the default (flexible) specification and the linear one, and records every estimate with its
interval next to that draw's true effect (both potential outcomes of every customer, from the
simulator). IPW and AIPW are scored against the average effect (ATE), overlap weights against the
overlap population's effect (``truth['loyalty_programme']['ato']``).

Two confounding mechanisms (``simulate(targeting=...)``):

* ``risk``: the built-in programme (month-to-month contracts, charges, any complaint, satisfaction
  <= 2, age);
* ``threshold``: a continuous confounder acting through a threshold and an interaction (monthly
  charge above 85, twice as strong on month-to-month contracts, in both the targeting and the
  hazard).

Run (resumable: finished replications are kept in the CSV)::

    python benchmarks/simulation_effects.py --reps 200 --n 20000 --workers 2 --n-bootstrap 100
    python benchmarks/simulation_effects.py --oracle      # + IPW with the true propensity
    python benchmarks/simulation_effects.py --summarise   # -> docs/simulation-effects.md + .json

The summary reports, per mechanism, specification, estimator and estimand: mean bias, its Monte
Carlo SE (SD / sqrt(reps)), |bias| / MCSE, the empirical SD, the mean reported SE and the coverage
of the reported intervals with its binomial Monte Carlo SE.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "simulation_effects.csv"
DOC = ROOT / "docs" / "simulation-effects.md"
JSON = ROOT / "src" / "workbench" / "effects" / "simulation_study.json"
CONFOUNDERS = ["contract", "monthly_charge", "n_complaints", "satisfaction", "age"]
HORIZONS = [6.0, 12.0, 24.0]
TAU = 24.0
FIELDS = [
    "mechanism",
    "seed",
    "n",
    "specification",
    "method",
    "estimand",
    "horizon",
    "estimate",
    "se",
    "ci_lower",
    "ci_upper",
    "truth",
    "n_bootstrap",
    "n_steps",
]


def one_replication(args: tuple) -> list[dict]:
    mechanism, seed, n, n_bootstrap = args
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from workbench.data import simulate
    from workbench.effects import InterventionStudy

    frame, truth = simulate(n, seed=seed, targeting=mechanism)
    lp = truth["loyalty_programme"]
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for spec in ("flexible", "linear"):
            study = InterventionStudy(
                frame,
                treatment_col="loyalty_programme",
                control_arm="none",
                design="observational",
                confounders=CONFOUNDERS,
                duration_col="tenure",
                event_col="churned",
                horizons=HORIZONS,
                tau=TAU,
                specification=spec,
            )
            # the linear specification is scored for bias (IPW point estimate) and AIPW coverage;
            # its IPW bootstrap is skipped to halve the cost
            boot = n_bootstrap if spec == "flexible" else 0
            steps = len(study.specification_().steps)  # threshold terms kept by the balance rule
            fits = [study.estimate("ipw", n_bootstrap=boot, seed=seed, n_jobs=1)]
            if spec == "flexible":
                # overlap weights: point estimate against the overlap population's truth (bias);
                # their bootstrap would double the cost of the study
                fits.append(study.estimate("overlap", augment=False, n_bootstrap=0, n_jobs=1))
            for res in fits:
                s = res.summary
                s = s[s["estimand"].isin(["survival_difference", "rmst_difference"])]
                for _, r in s.iterrows():
                    key = (
                        f"survival_difference_{r['horizon']:g}"
                        if r["estimand"] == "survival_difference"
                        else f"rmst_difference_{r['horizon']:g}"
                    )
                    target = lp["ato"] if r["method"] == "overlap" else lp["ate"]
                    rows.append(
                        {
                            "mechanism": mechanism,
                            "seed": seed,
                            "n": n,
                            "specification": spec,
                            "method": r["method"],
                            "estimand": r["estimand"],
                            "horizon": r["horizon"],
                            "estimate": r["estimate"],
                            "se": r["se"],
                            "ci_lower": r["ci_lower"],
                            "ci_upper": r["ci_upper"],
                            "truth": target[key],
                            "n_bootstrap": boot if r["method"] == "ipw" else 0,
                            "n_steps": steps,
                        }
                    )
    return rows


def run(reps: int, n: int, workers: int, n_bootstrap: int, mechanisms: list[str]) -> None:
    done = set()
    if OUT.exists():
        old = pd.read_csv(OUT)
        done = set(zip(old["mechanism"], old["seed"], old["n"]))
    todo = [
        (m, s, n, n_bootstrap) for s in range(reps) for m in mechanisms if (m, s, n) not in done
    ]
    print(f"{len(todo)} replications to run ({len(done)} done)", flush=True)
    new = not OUT.exists()
    t0 = time.time()
    with OUT.open("a", newline="") as fh, ProcessPoolExecutor(max_workers=workers) as ex:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        if new:
            w.writeheader()
        for k, rows in enumerate(ex.map(one_replication, todo), 1):
            w.writerows(rows)
            fh.flush()
            if k % 10 == 0:
                print(f"{k}/{len(todo)} in {time.time() - t0:.0f} s", flush=True)


def oracle_rows(args: tuple) -> list[dict]:
    """IPW with the simulator's true propensity (the reference a fitted model can at best reach)."""
    mechanism, seed, n = args
    from workbench.data import simulate
    from workbench.effects.pseudo import step_at
    from workbench.effects.weights import balancing_weights
    from workbench.survival.kernels import km_estimate, rmst_from_curve

    frame, truth = simulate(n, seed=seed, targeting=mechanism)
    ate = truth["loyalty_programme"]["ate"]
    t = (frame["loyalty_programme"] == "member").to_numpy().astype(float)
    w = balancing_weights(frame["propensity_loyalty"].to_numpy(), t, "ipw")
    d, e = frame["tenure"].to_numpy(dtype=float), frame["churned"].to_numpy(dtype=float)
    surv, rmst = [], []
    for m in (t == 1, t == 0):
        r = km_estimate(d[m], e[m], w[m])
        surv.append(step_at(r["time"], r["survival"], HORIZONS))
        rmst.append(rmst_from_curve(r["time"], r["survival"], TAU))
    base = {"mechanism": mechanism, "seed": seed, "n": n, "specification": "true propensity"}
    rows = [
        {
            **base,
            "method": "ipw",
            "estimand": "survival_difference",
            "horizon": h,
            "estimate": surv[0][j] - surv[1][j],
            "truth": ate[f"survival_difference_{h:g}"],
            "n_bootstrap": 0,
            "n_steps": 0,
        }
        for j, h in enumerate(HORIZONS)
    ]
    rows.append(
        {
            **base,
            "method": "ipw",
            "estimand": "rmst_difference",
            "horizon": TAU,
            "estimate": rmst[0] - rmst[1],
            "truth": ate[f"rmst_difference_{TAU:g}"],
            "n_bootstrap": 0,
            "n_steps": 0,
        }
    )
    return rows


def run_oracle(workers: int) -> None:
    """Add the true-propensity IPW rows for every draw in the CSV that lacks them."""
    d = pd.read_csv(OUT)
    have = set(
        zip(
            *[d.loc[d["specification"] == "true propensity", c] for c in ("mechanism", "seed", "n")]
        )
    )
    todo = sorted(set(zip(d["mechanism"], d["seed"], d["n"])) - have)
    print(f"{len(todo)} draws to add the true-propensity IPW to", flush=True)
    with OUT.open("a", newline="") as fh, ProcessPoolExecutor(max_workers=workers) as ex:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        for rows in ex.map(oracle_rows, todo):
            w.writerows(rows)


def summarise() -> pd.DataFrame:
    d = pd.read_csv(OUT)
    d["error"] = d["estimate"] - d["truth"]
    has_ci = d["ci_lower"].notna() & d["ci_upper"].notna()
    d["covered"] = ((d["ci_lower"] <= d["truth"]) & (d["truth"] <= d["ci_upper"])).where(has_ci)
    d["reps_ci"] = has_ci.astype(int)
    keys = ["mechanism", "n", "specification", "method", "estimand", "horizon"]
    g = d.groupby(keys, sort=False)
    out = g.agg(
        reps=("error", "size"),
        truth=("truth", "mean"),
        bias=("error", "mean"),
        sd=("estimate", "std"),
        mean_se=("se", "mean"),
        coverage=("covered", lambda c: c.astype(float).mean()),
        reps_ci=("reps_ci", "sum"),
    ).reset_index()
    few = out["reps_ci"] < 50  # coverage of fewer than 50 intervals is not reported
    out.loc[few, ["coverage", "mean_se"]] = np.nan
    out["mcse"] = out["sd"] / np.sqrt(out["reps"])
    out["bias_over_mcse"] = out["bias"] / out["mcse"]
    cov = out["coverage"].astype(float)
    out["coverage_mcse"] = np.sqrt(
        cov * (1 - cov) / out["reps_ci"].astype(float).replace(0, np.nan)
    )
    return out


def write_docs(out: pd.DataFrame) -> None:
    raw = pd.read_csv(OUT)
    boot = sorted(set(raw.loc[raw["n_bootstrap"] > 0, "n_bootstrap"].astype(int)))
    flex = raw[raw["specification"] == "flexible"].drop_duplicates(["mechanism", "seed", "n"])
    kept = {
        m: ", ".join(
            f"{int(k)} term(s) in {int(c)}"
            for k, c in g["n_steps"].value_counts().sort_index().items()
        )
        for m, g in flex.groupby("mechanism", sort=False)
    }
    lines = [
        "# Simulation study: observational intervention effects",
        "",
        "Generated by `python benchmarks/simulation_effects.py --summarise` from "
        "`benchmarks/simulation_effects.csv` (one row per replication, estimator and estimand). "
        "Each replication is a fresh simulated customer base (`simulate(n, seed=r, targeting=...)`); "
        "the target is that draw's true effect from both potential outcomes (ATE for IPW and AIPW, the "
        "overlap population's effect for overlap weights). Confounders: notebook 04's defaults "
        f"({', '.join(CONFOUNDERS)}). Intervals: IPW percentile bootstrap with "
        f"{' / '.join(map(str, boot)) or 'no'} replicates per draw (propensity coefficients refitted in "
        "every replicate, the specification's threshold terms held fixed), AIPW influence-function; "
        "nominal level 95%. The linear specification's IPW is run without bootstrap and overlap "
        "weights as point estimates (bias only), to keep the study's cost within the machine's budget. "
        "Rows 'true propensity': IPW with the simulator's own propensity on the same draws (`--oracle`), "
        "the reference a fitted propensity model can at best reach.",
        "",
        "The flexible specification is the default rule of `workbench/effects/specification.py` "
        "with the threshold terms kept by balance (`workbench/effects/refinement.py`, described in "
        "[effects.md](effects.md)). Threshold terms kept per draw: "
        + "; ".join(f"`{m}`: {v} draws" for m, v in kept.items())
        + ".",
        "",
        "Columns: bias = mean(estimate - truth); MCSE = SD / sqrt(reps); z = bias / MCSE "
        "(|z| < 3 is no detectable bias); coverage of the reported 95% intervals (its Monte Carlo SE "
        "in brackets).",
        "",
    ]
    for (mech, n), block in out.groupby(["mechanism", "n"], sort=False):
        lines += [
            f"## Mechanism `{mech}`, {n:,} customers, {int(block['reps'].max())} replications",
            "",
            "| specification | estimator | estimand | truth (mean) | bias | MCSE | z | SD | mean SE | coverage |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for _, r in block.iterrows():
            name = (
                f"S({r['horizon']:g}) difference"
                if r["estimand"] == "survival_difference"
                else f"RMST({r['horizon']:g}) difference (months)"
            )
            cov = (
                f"{100 * r['coverage']:.1f}% ({100 * r['coverage_mcse']:.1f})"
                if r["coverage"] == r["coverage"]
                else "(point estimate only)"
            )
            mse = f"{r['mean_se']:.4f}" if r["mean_se"] == r["mean_se"] else "-"
            lines.append(
                f"| {r['specification']} | {r['method']} | {name} | {r['truth']:.4f} | "
                f"{r['bias']:+.4f} | {r['mcse']:.4f} | {r['bias_over_mcse']:+.1f} | {r['sd']:.4f} | "
                f"{mse} | {cov} |"
            )
        lines.append("")
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(lines) + "\n")
    rec = out.assign(confounders=", ".join(CONFOUNDERS)).to_dict(orient="records")
    JSON.write_text(json.dumps(rec, indent=1, default=float) + "\n")
    print(f"wrote {DOC} and {JSON}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--n", type=int, default=20_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--n-bootstrap", type=int, default=200)
    p.add_argument("--mechanisms", nargs="+", default=["risk", "threshold"])
    p.add_argument("--summarise", action="store_true")
    p.add_argument(
        "--oracle", action="store_true", help="add IPW with the true propensity to every draw"
    )
    a = p.parse_args(argv)
    if a.oracle:
        run_oracle(a.workers)
        return 0
    if a.summarise:
        out = summarise()
        write_docs(out)
        print(out.to_string())
        return 0
    run(a.reps, a.n, a.workers, a.n_bootstrap, a.mechanisms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
