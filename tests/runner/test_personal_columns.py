"""Spec `personal:`: ids and personal values never appear in a run's files (issue 12, guards)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data import RoleSpec, validate
from workbench.exceptions import ParameterError
from workbench.privacy import check_not_personal, personal_values, scrub_markup, scrub_text
from workbench.runner import run_notebook

NB = Path(__file__).resolve().parent / "notebooks"
SURNAMES = ["Okonkwo", "Vandersloot", "Przybylski", "Featherstonehaugh", "Quarshie"]


def _data(tmp_path: Path, n: int = 60) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "customer_id": [f"CUST-{i:06d}" for i in range(n)],
            "surname": [SURNAMES[i % 5] for i in range(n)],
            "email": [f"{SURNAMES[i % 5].lower()}{i}@example.org" for i in range(n)],
            "tenure": rng.uniform(1, 40, n).round(2),
            "churned": rng.integers(0, 2, n),
        }
    )
    data = tmp_path / "people.csv"
    frame.to_csv(data, index=False)
    spec = tmp_path / "spec.yml"
    spec.write_text("id: customer_id\ntenure: tenure\nevent: churned\npersonal: [surname, email]\n")
    return data, spec


def test_grouping_by_personal_or_id_refused(tmp_path):
    data, spec = _data(tmp_path)
    ds = validate(pd.read_csv(data), RoleSpec.from_yaml(spec))
    with pytest.raises(ParameterError, match=r"`group_by` = 'surname' is declared personal"):
        check_not_personal(ds, "surname", argument="group_by")
    with pytest.raises(ParameterError, match=r"`strata` = 'customer_id' is the customer id"):
        check_not_personal(ds, ["tenure", "customer_id"], argument="strata")
    check_not_personal(ds, "churned")


def test_scrub_masks_values_not_images(tmp_path):
    data, spec = _data(tmp_path)
    values = personal_values(validate(pd.read_csv(data), RoleSpec.from_yaml(spec)))
    text, n = scrub_text("Mr Okonkwo (CUST-000000, okonkwo0@example.org) left.", values)
    assert n == 3 and "Okonkwo" not in text and "CUST-000000" not in text
    html = '<img src="data:image/png;base64,Okonkwo/Okonkwo=="/> Okonkwo'
    out, n = scrub_markup(html, values)
    assert n == 1 and out.startswith('<img src="data:image/png;base64,Okonkwo/Okonkwo=="/>')


def test_no_personal_value_in_any_file_of_the_run(tmp_path):
    data, spec = _data(tmp_path)
    out = run_notebook(
        NB / "leaky.ipynb",
        {"data_path": str(data), "spec_path": str(spec)},
        out=tmp_path / "reports",
        run_name="leak",
        timeout=120,
    )
    assert out.ok, out.manifest.get("error")
    assert out.manifest["personal_masked"] > 0
    leaked = []
    for f in out.run_dir.rglob("*"):
        if f.is_file():
            text = f.read_text(encoding="utf-8", errors="replace")
            leaked += [(f.name, s) for s in [*SURNAMES, "CUST-000001", "example.org"] if s in text]
    assert not leaked, leaked
