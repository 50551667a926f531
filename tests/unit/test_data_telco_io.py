"""Telco adapter, loaders (CSV, Parquet, DuckDB on real files), the registry and the data CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pandas as pd
import pytest

from workbench.data import (
    RoleSpec,
    load_csv,
    load_dataset,
    load_duckdb,
    load_parquet,
    load_telco,
    simulate,
    synthetic_spec,
    write_parquet,
)
from workbench.data.telco import FILES, read_telco_frame, snake_case
from workbench.exceptions import (
    DataQualityWarning,
    DatasetNotFoundError,
    DataValidationError,
    ParameterError,
)


def test_telco_counts(telco):
    assert telco.n == 7043
    assert telco.events == 1869
    cats = telco.frame.loc[telco.frame.churn_value == 1, "churn_category"]
    assert sorted(cats.unique()) == ["Attitude", "Competitor", "Dissatisfaction", "Other", "Price"]
    assert cats.notna().all()


def test_telco_keeps_every_source_column_snake_cased(telco, telco_dir):
    expected = set()
    for f in FILES.values():
        expected |= {snake_case(c) for c in pd.read_csv(telco_dir / f, nrows=1).columns}
    expected -= {"id"}  # population's row number, not a customer attribute
    assert expected <= set(telco.frame.columns)
    assert {
        "monthly_charge",
        "number_of_referrals",
        "tenure_in_months",
        "satisfaction_score",
    } <= set(telco.frame)
    assert snake_case("Number of Referrals") == "number_of_referrals"


def test_telco_levels_and_derived_columns(telco):
    f = telco.frame
    assert f["offer"].value_counts()["None"] == 3877  # the text 'None' is a level, not missing
    assert set(f["offer"]) == {"None", "Offer A", "Offer B", "Offer C", "Offer D", "Offer E"}
    assert f["n_services"].between(0, 11).all() and f["n_services"].max() >= 8
    assert list(f["contract"].cat.categories) == ["Month-to-Month", "One Year", "Two Year"]
    assert telco.spec.treatment("offer").assignment == "observational"
    # the separation the issue warns about is really in the data
    tab = pd.crosstab(f["satisfaction_score"], f["churn_value"])
    assert tab.loc[[1, 2], 0].sum() == 0 and tab.loc[[4, 5], 1].sum() == 0


def test_telco_errors_name_the_path(tmp_path, telco_dir):
    with pytest.raises(
        DatasetNotFoundError, match=r"data_path '.*nowhere' is not a folder.*ibm-telco"
    ):
        read_telco_frame(tmp_path / "nowhere")
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(telco_dir / FILES["status"], partial / FILES["status"])
    with pytest.raises(DatasetNotFoundError, match=r"has no 'Telco_customer_churn_services.csv'"):
        load_telco(partial)


@pytest.fixture(scope="module")
def small_frame():
    return simulate(800, seed=9)[0]


def test_csv_parquet_duckdb_loaders_agree(tmp_path, small_frame):
    spec = synthetic_spec()
    csv = tmp_path / "c.csv"
    small_frame.to_csv(csv, index=False)
    pq = write_parquet(small_frame, tmp_path / "c.parquet")
    a, b = load_csv(csv, spec), load_parquet(pq, spec)
    assert a.n == b.n == 800 and a.events == b.events
    query = f"SELECT * FROM read_parquet('{pq}') WHERE segment = 'consumer'"
    with pytest.raises(
        DataValidationError,
        match=r"'segment' fails rule 'declared levels exist'.*absent_levels: drop",
    ):
        load_duckdb(query, spec)
    subset_spec = RoleSpec.from_dict({**spec.to_dict(), "absent_levels": "drop"})
    with pytest.warns(
        DataQualityWarning,
        match=r"'segment': declared level\(s\) \['small_business', 'enterprise'\]",
    ):
        sub = load_duckdb(query, subset_spec)
    assert sub.n == int((small_frame.segment == "consumer").sum())
    assert set(sub.frame["segment"].astype(str)) == {"consumer"}
    db = tmp_path / "c.duckdb"
    import duckdb

    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE customers AS SELECT * FROM read_parquet('{pq}')")
    con.close()
    c = load_duckdb("SELECT * FROM customers", spec, database=db)
    assert c.n == 800


def test_duckdb_errors(small_frame):
    with pytest.raises(
        ParameterError,
        match=r"(?s)the DuckDB `query` failed: .*Query was: 'SELECT \* FROM missing_table'",
    ):
        load_duckdb("SELECT * FROM missing_table", synthetic_spec())
    with pytest.raises(ParameterError, match=r"`query` must be a SQL string"):
        load_duckdb("  ", synthetic_spec())


def test_registry_file_and_errors(tmp_path, small_frame, telco_dir):
    pq = write_parquet(small_frame, tmp_path / "x.parquet")
    spec_file = tmp_path / "spec.yml"
    import yaml

    spec_file.write_text(yaml.safe_dump(synthetic_spec().to_dict()))
    ds = load_dataset("file", data_path=pq, spec_path=spec_file)
    assert ds.n == 800
    with pytest.raises(
        DatasetNotFoundError, match=r"data_path '.*missing.csv' does not exist.*`data_path`"
    ):
        load_dataset("file", data_path=tmp_path / "missing.csv", spec_path=spec_file)
    with pytest.raises(DatasetNotFoundError, match=r"spec_path '.*nospec.yml' does not exist"):
        load_dataset("file", data_path=pq, spec_path=tmp_path / "nospec.yml")
    with pytest.raises(ParameterError, match=r"needs both `data_path`.*and `spec_path`"):
        load_dataset("file", data_path=pq)
    with pytest.raises(
        DatasetNotFoundError, match=r"unknown dataset 'telcoo'. Valid names: 'synthetic'"
    ):
        load_dataset("telcoo")
    with pytest.raises(
        ParameterError, match=r"dataset 'synthetic' is simulated: it takes no data_path"
    ):
        load_dataset("synthetic", data_path=pq)
    with pytest.raises(ParameterError, match=r"apply only to dataset 'synthetic'"):
        load_dataset("telco", data_path=telco_dir, n_customers=5)
    bad = tmp_path / "x.xlsx"
    bad.write_text("x")
    with pytest.raises(ParameterError, match=r"cannot tell the format from suffix '.xlsx'"):
        load_dataset("file", data_path=bad, spec_path=spec_file)
    assert load_dataset("telco", data_path=telco_dir).n == 7043


def _cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_cli_generate_validate_describe(tmp_path, telco_dir):
    out = tmp_path / "syn.parquet"
    r = _cli(
        "data",
        "generate",
        "--n",
        "600",
        "--seed",
        "4",
        "--out",
        str(out),
        "--truth",
        str(tmp_path / "t.json"),
    )
    assert r.returncode == 0, r.stderr
    assert "wrote 600 simulated customers" in r.stdout and out.is_file()
    spec = tmp_path / "spec.yml"
    import yaml

    spec.write_text(yaml.safe_dump(synthetic_spec().to_dict()))
    r = _cli("data", "validate", str(out), "--spec", str(spec))
    assert r.returncode == 0 and "ok: 600 customers" in r.stdout
    broken = pd.read_parquet(out)
    broken.loc[0, "satisfaction"] = 9
    broken.to_parquet(tmp_path / "broken.parquet")
    r = _cli("data", "validate", str(tmp_path / "broken.parquet"), "--spec", str(spec))
    assert r.returncode == 2
    assert (
        "workbench: error: column 'satisfaction' fails rule 'satisfaction within scale'" in r.stderr
    )
    assert "Traceback" not in r.stderr
    r = _cli("data", "describe", "--dataset", "telco", "--data-path", str(telco_dir))
    assert r.returncode == 0 and "7,043" in r.stdout and "1,869" in r.stdout
