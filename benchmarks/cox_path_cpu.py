"""CPU seconds of the Cox engine, ``fit_cox`` and notebook 02's Cox path, in one process.

Usage: ``python benchmarks/cox_path_cpu.py N DURATION [REPEATS] [DATADIR]`` (``DURATION`` is
``tenure`` (days, tied) or ``tenure_cont``). The data are the benchmark's (``_cases.prepare``,
written to ``DATADIR`` if missing; seed 2026 as ``run.py``). Each of the three calls runs once
untimed (imports, numba cache), then ``REPEATS`` times in turn; the result of each call is kept
until the next, as in ``run.py``. Prints the median and minimum CPU seconds. Complements
``run.py``'s fresh-process medians of three runs, which are noisy on a shared machine.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _cases  # noqa: E402

warnings.simplefilter("ignore")


def main(n: int, dur: str, reps: int, datadir: Path) -> None:
    from workbench.survival import fit_cox
    from workbench.survival.engine import cox_fit

    if not (datadir / f"cox_{n}.parquet").is_file():
        _cases.prepare(n, 2026, datadir)
    df = pd.read_parquet(datadir / f"cox_{n}.parquet")
    cov = _cases.COVARIATES
    d = df[cov + [dur, "churned"]]
    X, t, e = d[cov].to_numpy(float), d[dur].to_numpy(), d["churned"].to_numpy()

    def notebook():  # fit, cox.zph, both records (reads the concordance), as notebook 02
        res = fit_cox(d, duration_col=dur, event_col="churned", covariates=cov)
        res.ph_test().to_record()
        res.to_record()
        return res

    calls = {
        "engine": lambda: cox_fit(X, t, e, ties="efron"),
        "fit_cox": lambda: fit_cox(d, duration_col=dur, event_col="churned", covariates=cov),
        "notebook": notebook,
    }
    kept = {k: f() for k, f in calls.items()}
    cpu = {k: [] for k in calls}
    for _ in range(reps):
        for k, f in calls.items():
            c0 = time.process_time()
            kept[k] = f()
            cpu[k].append(time.process_time() - c0)
    med = {k: float(np.median(v)) for k, v in cpu.items()}
    low = {k: float(np.min(v)) for k, v in cpu.items()}
    print(
        f"n={n:,} {dur}: CPU s median engine {med['engine']:.3f}, fit_cox {med['fit_cox']:.3f} "
        f"({med['fit_cox'] / med['engine']:.2f}x), notebook path {med['notebook']:.3f}; "
        f"min {low['engine']:.3f}, {low['fit_cox']:.3f} ({low['fit_cox'] / low['engine']:.2f}x), "
        f"{low['notebook']:.3f}"
    )


if __name__ == "__main__":
    a = sys.argv[1:]
    main(
        int(a[0]),
        a[1],
        int(a[2]) if len(a) > 2 else 7,
        Path(a[3]) if len(a) > 3 else Path("/tmp/wb-cox-path"),
    )
