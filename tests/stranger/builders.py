""" "Stranger" data sets: customer files no one here has seen, built from the simulator and from Telco.

Each reproduces the conditions of issue 12 (a real file a new user brought):

* 10,000 customers (Telco's 7,043 are resampled with replacement, seeded, with new ids);
* tenure in **whole years** (``floor(months / 12)``) with many zeros; ``tenure_unit: years``,
  ``zero_tenure: keep``;
* a churn flag (``left``);
* a 1-5 satisfaction score (``csat``) drawn independently of everything else: in truth unrelated to
  churn (H1 must not be supported);
* a product count (``products``) whose top level is held only by customers who churned in their first
  year (every customer with the top count churned);
* no churn cause, no revenue, no start date;
* a ``surname`` column declared personal (``personal: [surname]``): it must never reach an output;
* a continuous column (``usage``) that a user might pass as ``group_by``.

:func:`build` returns ``StrangerData`` (frame, spec dict, and what a test must know: the surnames, the
top product level, the columns). :func:`write` writes ``<name>.csv`` and ``<name>.yml`` so that a
notebook runs with only ``dataset='file'``, ``data_path``, ``spec_path``. From the command line::

    python tests/stranger/builders.py --out /tmp/stranger        # writes both data sets

Nothing here estimates anything; the fixtures in ``tests/stranger/conftest.py`` wrap these builders.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

N_CUSTOMERS = 10_000
SOURCES = ("simulator", "telco")

_PRE = (
    "Quar Vell Ostr Brann Kell Marr Thorn Lisk Darv Fenn Grav Holm Jarr Korv Lund Mosk Nord Orv "
    "Pell Quist Rask Sorv Tarr Ulv Varg Wend Yst Zell Aberc Bryn"
).split()
_SUF = (
    "enholtz ington uwicz sdottir akova erby ellini ovski anek oyle ardine ebrecht imov usson "
    "aglio ekamp orwitz iaux enberg ovitch asque ettner ullin erdahl ossian ampf ewhurst ickert "
    "odell uvrai"
).split()


@dataclass
class StrangerData:
    """One stranger data set and the facts a test checks against."""

    name: str
    frame: pd.DataFrame
    spec: dict
    surnames: list = field(default_factory=list)  # every distinct surname (personal values)
    top_products: int = 0  # the product count held only by churners
    n_top: int = 0
    data_path: Path | None = None
    spec_path: Path | None = None

    @property
    def unit(self) -> str:
        return self.spec["tenure_unit"]


def _surnames(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinctive made-up surnames (``'Quaraenholtz'``), ~2,750 distinct among 10,000 customers."""
    pool = np.array(
        [p + m + s for p in _PRE for m in ("a", "e", "o", "y") for s in _SUF], dtype=object
    )
    pool = np.random.default_rng(0).permutation(pool)[:2_800]
    return rng.choice(pool, size=n)


def _finish(
    name, rng, *, years, left, plan, plan_levels, products, age, region, usage
) -> StrangerData:
    n = len(years)
    years = np.asarray(years, int)
    left = np.asarray(left, int)
    products = np.asarray(products, int).copy()
    # the top product level: a few first-year churners only -> every customer with it churned
    first_year_churners = np.flatnonzero((left == 1) & (years == 0))
    top = int(products.max()) + 1
    pick = rng.choice(first_year_churners, size=max(20, n // 200), replace=False)
    products[pick] = top
    frame = pd.DataFrame(
        {
            "client_ref": [f"C{900000 + i}" for i in range(n)],
            "surname": _surnames(rng, n),
            "years_with_us": years,
            "left": left,
            "csat": rng.choice([1, 2, 3, 4, 5], size=n, p=[0.08, 0.14, 0.3, 0.3, 0.18]),
            "plan": plan,
            "products": products,
            "age": np.asarray(age, int),
            "region": region,
            "usage": np.round(np.asarray(usage, float), 3),
        }
    )
    spec = {
        "name": name,
        "description": f"stranger data set built from the {name.split('_')[-1]} (tests/stranger)",
        "id": "client_ref",
        "tenure": "years_with_us",
        "tenure_unit": "years",
        "event": "left",
        "satisfaction": "csat",
        "satisfaction_scale": [1, 5],
        "switching_costs": ["plan", "products"],
        "segment": "region",
        "covariates": ["age", "region", "usage"],
        "categorical": {"plan": list(plan_levels)},
        "zero_tenure": "keep",
        "personal": ["surname"],
    }
    return StrangerData(
        name,
        frame,
        spec,
        surnames=sorted(frame["surname"].unique().tolist()),
        top_products=top,
        n_top=len(pick),
    )


def from_simulator(n: int = N_CUSTOMERS, seed: int = 12) -> StrangerData:
    """The simulator's customers, re-expressed as a stranger's file (see module docstring)."""
    from workbench.data import simulate

    f, _ = simulate(n, seed)
    rng = np.random.default_rng(seed + 1)
    plan_map = {"month_to_month": "monthly", "one_year": "annual", "two_year": "biennial"}
    return _finish(
        "stranger_simulator",
        rng,
        years=np.floor(f["tenure"].to_numpy() / 12),
        left=f["churned"].to_numpy(),
        plan=f["contract"].astype(str).map(plan_map).to_numpy(),
        plan_levels=["monthly", "annual", "biennial"],
        products=f["n_products"].to_numpy(),
        age=f["age"].to_numpy(),
        region=f["region"].astype(str).to_numpy(),
        usage=f["logins_per_month"].to_numpy() + rng.uniform(0, 1, n),
    )


def from_telco(telco_dir, n: int = N_CUSTOMERS, seed: int = 12) -> StrangerData:
    """Telco's customers resampled to ``n`` (with replacement, seeded), as a stranger's file."""
    from workbench.data.telco import read_telco_frame

    t = read_telco_frame(telco_dir)
    rng = np.random.default_rng(seed)
    t = t.iloc[rng.integers(0, len(t), n)].reset_index(drop=True)
    plan_map = {"Month-to-Month": "monthly", "One Year": "annual", "Two Year": "biennial"}
    return _finish(
        "stranger_telco",
        rng,
        years=np.floor(t["tenure_in_months"].to_numpy() / 12),
        left=t["churn_value"].to_numpy(),
        plan=t["contract"].astype(str).map(plan_map).to_numpy(),
        plan_levels=["monthly", "annual", "biennial"],
        products=t["n_services"].to_numpy(),
        age=t["age"].to_numpy(),
        region=pd.qcut(
            t["latitude"], 4, labels=["south", "south_central", "north_central", "north"]
        )
        .astype(str)
        .to_numpy(),
        usage=t["avg_monthly_gb_download"].to_numpy() + rng.uniform(0, 1, n),
    )


def build(source: str, *, telco_dir=None, n: int = N_CUSTOMERS, seed: int = 12) -> StrangerData:
    """``source`` 'simulator' or 'telco' (then ``telco_dir`` is required)."""
    if source == "simulator":
        return from_simulator(n, seed)
    if source == "telco":
        if telco_dir is None:
            raise ValueError(
                "build('telco') needs telco_dir (the folder of the five Telco CSV files)"
            )
        return from_telco(telco_dir, n, seed)
    raise ValueError(f"source must be one of {SOURCES}, got {source!r}")


def write(sd: StrangerData, folder) -> StrangerData:
    """Write ``<name>.csv`` and ``<name>.yml`` into ``folder``; sets ``data_path`` / ``spec_path``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sd.data_path = folder / f"{sd.name}.csv"
    sd.spec_path = folder / f"{sd.name}.yml"
    sd.frame.to_csv(sd.data_path, index=False)
    sd.spec_path.write_text(yaml.safe_dump(sd.spec, sort_keys=False))
    return sd


def notebook_parameters(sd: StrangerData) -> dict:
    """The only parameters a stranger passes: dataset, data_path, spec_path."""
    return {"dataset": "file", "data_path": str(sd.data_path), "spec_path": str(sd.spec_path)}


def personal_values_in(folder, sd: StrangerData) -> dict:
    """Every file under ``folder`` that contains a surname (or a customer id): {path: [values]}."""
    needles = [*sd.surnames, *sd.frame[sd.spec["id"]].astype(str).tolist()]
    found = {}
    for p in Path(folder).rglob("*"):
        if not p.is_file():
            continue
        text = p.read_bytes().decode("utf-8", errors="replace")
        hits = [v for v in needles if v in text]
        if hits:
            found[str(p)] = hits[:10]
    return found


def main(argv=None) -> None:  # pragma: no cover - a convenience for manual runs
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--telco-dir", default=None)
    a = ap.parse_args(argv)
    from workbench.config import telco_dir

    for src in SOURCES:
        sd = write(build(src, telco_dir=a.telco_dir or telco_dir()), a.out)
        print(sd.data_path, sd.spec_path)


if __name__ == "__main__":  # pragma: no cover
    main()
