"""Bad and edge-case inputs for the data and running layers, each with the answer it must get.

A case is ``(id, build, expected, names)``: ``build(tmp)`` performs the call (``tmp`` is a fresh
folder), ``expected`` the exact error class (or warning class) it must raise, ``names`` the
column / argument / key / file the message must name. Every message must also suggest a fix
(:data:`FIX_WORDS`). ``tests/fuzz/test_fuzz.py`` asserts all of them; ``tests/fuzz/measure.py``
counts CLEAR / UNCLEAR / TRACEBACK / SILENT over them and the issue's own inputs.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import exceptions as _exc
from workbench.data import RoleSpec, load_dataset, read_table, validate
from workbench.exceptions import (
    DataQualityWarning,
    DatasetNotFoundError,
    DataValidationError,
    ParameterError,
    RunError,
    SpecError,
)

# (measure.py --src can point at an older workbench that lacks these two classes)
BatchWarning = getattr(_exc, "BatchWarning", _exc.WorkbenchWarning)
CoarseTenureWarning = getattr(_exc, "CoarseTenureWarning", DataQualityWarning)

FIX_WORDS = (
    "set ", "use ", "add ", "give ", "check ", "write ", "fix ", "remove ", "choose ", "correct ",
    "e.g.", "did you mean", "rename", "pass ", "convert", "save ", "start ", "point ", "wait ",
    "code ", "blank ", "impute", "aggregate", "declare", "re-export", "closest", "quote ",
    "valid ", "must be", "replace ", "needs ", "leave it out", "move ", "re-run", "run ",
)  # fmt: skip
NB = Path(__file__).resolve().parents[1] / "runner" / "notebooks"
BASE = {"id": "customer_id", "tenure": "tenure", "event": "churned"}


# ---------------------------------------------------------------------------------- helpers
def frame(n: int = 300, seed: int = 0, **cols) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = pd.DataFrame(
        {
            "customer_id": [f"K{i:05d}" for i in range(n)],
            "tenure": rng.uniform(0.5, 60, n).round(3),
            "churned": rng.integers(0, 2, n),
            "satisfaction": rng.integers(1, 6, n),
            "offer": np.where(rng.random(n) < 0.5, "none", "call"),
            "contract": rng.choice(["month", "year"], n),
            "age": rng.integers(18, 80, n).astype(float),
            "revenue": rng.uniform(10, 90, n).round(2),
            "cause": None,
            "start": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 100, n), "D"),
        }
    )
    f["cause"] = np.where(f["churned"] == 1, "price", None)
    for k, v in cols.items():
        f[k] = v
    return f


def spec(**kw) -> RoleSpec:
    return RoleSpec(**{**BASE, **kw})


def with_value(col: str, row: int, value, **kw):
    def build(tmp):
        f = frame(**kw)
        f[col] = f[col].astype(object)
        f.loc[row, col] = value
        return f

    return build


def v(build_frame, **spec_kw):
    """A validation case: the frame from ``build_frame(tmp)`` against ``spec(**spec_kw)``."""
    return lambda tmp: validate(build_frame(tmp), spec(**spec_kw))


def from_dict(**d):
    return lambda tmp: RoleSpec.from_dict({**BASE, **d})


def write(name: str, content: str | bytes):
    def build(tmp: Path) -> Path:
        p = tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        (p.write_bytes if isinstance(content, bytes) else p.write_text)(content)
        return p

    return build


def read(name: str, content: str | bytes, **kw):
    return lambda tmp: read_table(write(name, content)(tmp), **kw)


def batch(text: str):
    from workbench.runner.batch import load_batch

    return lambda tmp: load_batch(write("b.yml", text.replace("NB", str(NB)))(tmp))


def params(given: dict, notebook: str = "trivial.ipynb"):
    from workbench.runner.execute import plan_run

    return lambda tmp: plan_run(NB / notebook, given, run_name="fuzz", out=tmp / "r")


CSV_HEAD = "customer_id,tenure,churned\n"

# ---------------------------------------------------------------------------------- the cases
CASES: list[tuple] = []


def case(cid, build, expected, *names):
    CASES.append((cid, build, expected, names))


# -- specs (SpecError)
for role in ("id", "tenure", "event"):
    case(f"spec-{role}-missing", from_dict(**{role: ""}), SpecError, role)
for role in ("churn_type", "start_date", "satisfaction", "perceived_value", "segment", "revenue",
             "margin", "cltv", "referrals", "churn_reason"):  # fmt: skip
    case(f"spec-{role}-list", from_dict(**{role: ["a", "b"]}), SpecError, role)
for key, bad in (("tenure_unit", "decades"), ("churn_type_policy", "sometimes"),
                 ("zero_tenure", "drop"), ("missing_covariates", "impute"),
                 ("absent_levels", "ignore"), ("value_period", "quarter")):  # fmt: skip
    case(f"spec-{key}", from_dict(**{key: bad}), SpecError, key, bad)
for typo, right in (("tenur", "tenure"), ("evnt", "event"), ("satisfation", "satisfaction"),
                    ("covarites", "covariates"), ("segmnt", "segment"), ("currancy", "currency")):  # fmt: skip
    case(f"spec-typo-{typo}", from_dict(**{typo: "x"}), SpecError, typo, right)
for typo, right in (("contol", "control"), ("asignment", "assignment"), ("armz", "arms")):
    t = {"column": "offer", "control": "none", typo: "x"}
    case(f"spec-treatment-{typo}", from_dict(treatments=[t]), SpecError, typo, right)
case("spec-treatment-no-control", from_dict(treatments=[{"column": "offer"}]), SpecError, "control")
case("spec-treatment-assignment", from_dict(treatments=[{"column": "offer", "control": "none", "assignment": "random"}]), SpecError, "assignment")  # fmt: skip
case("spec-treatments-text", from_dict(treatments="offer"), SpecError, "treatments")
for i, bad in enumerate((5, [5, 1], "1-5", [1], [1, "5"], [True, 5])):
    case(
        f"spec-scale-{i}",
        from_dict(satisfaction="s", satisfaction_scale=bad),
        SpecError,
        "satisfaction_scale",
    )
case(
    "spec-categorical-text", from_dict(categorical={"contract": "month"}), SpecError, "categorical"
)
case("spec-categorical-list", from_dict(categorical=["contract"]), SpecError, "categorical")
case("spec-currency-word", from_dict(currency="euros"), SpecError, "currency", "euros")
case("spec-currency-number", from_dict(currency=978), SpecError, "currency")
case(
    "spec-analysis-date",
    from_dict(analysis_date="yesterday"),
    SpecError,
    "analysis_date",
    "YYYY-MM-DD",
)
case("spec-encoding", from_dict(encoding="klingon"), SpecError, "encoding", "klingon")
case("spec-personal-number", from_dict(personal=5), SpecError, "personal")
case("spec-covariates-mapping", from_dict(covariates={"a": 1}), SpecError, "covariates")
case("spec-not-mapping", lambda tmp: RoleSpec.from_dict(["id"]), SpecError, "mapping")
case("spec-file-missing", lambda tmp: RoleSpec.from_yaml(tmp / "nope.yml"), SpecError, "nope.yml")
case(
    "spec-file-yaml",
    lambda tmp: RoleSpec.from_yaml(write("s.yml", "id: [x\n")(tmp)),
    SpecError,
    "s.yml",
    "line",
)
case("spec-file-latin1", lambda tmp: RoleSpec.from_yaml(write("s.yml", "id: Jos\xe9\n".encode("latin-1"))(tmp)), SpecError, "UTF-8")  # fmt: skip

# -- validation (DataValidationError, warnings)
case("val-missing-column", lambda tmp: validate(frame().rename(columns={"tenure": "tenure_m"}), spec()), DataValidationError, "tenure", "tenure_m")  # fmt: skip
case("val-dup-ids", v(with_value("customer_id", 3, "K00002")), DataValidationError, "customer_id", "ids unique")  # fmt: skip
case(
    "val-missing-id",
    v(with_value("customer_id", 5, None)),
    DataValidationError,
    "customer_id",
    "ids present",
)
case("val-tenure-text", v(with_value("tenure", 7, "three")), DataValidationError, "tenure", "three")
case(
    "val-tenure-nan",
    v(with_value("tenure", 7, np.nan)),
    DataValidationError,
    "tenure",
    "tenure present",
)
case("val-tenure-inf", v(with_value("tenure", 7, np.inf)), DataValidationError, "tenure", "finite")
case(
    "val-tenure-negative",
    v(with_value("tenure", 7, -3.0)),
    DataValidationError,
    "tenure",
    "negative",
)
case(
    "val-tenure-zero", v(with_value("tenure", 7, 0.0)), DataValidationError, "tenure", "zero_tenure"
)
case(
    "val-tenure-1e30", v(with_value("tenure", 7, 1e30)), DataValidationError, "tenure", "100 years"
)
case("val-days-as-months", v(lambda tmp: frame(tenure=np.random.default_rng(1).integers(30, 2200, 300).astype(float))), DataValidationError, "tenure", "tenure_unit: days")  # fmt: skip
case("val-weeks-as-years", v(lambda tmp: frame(tenure=np.random.default_rng(1).integers(1, 300, 300).astype(float)), tenure_unit="years"), DataValidationError, "tenure", "tenure_unit")  # fmt: skip
case("val-timedelta", v(lambda tmp: frame(tenure=pd.to_timedelta(np.arange(1, 301), "D"))), DataQualityWarning, "tenure", "timedelta")  # fmt: skip
case("val-event-2", v(with_value("churned", 4, 2)), DataValidationError, "churned", "0/1")
case("val-event-text", v(with_value("churned", 4, "gone")), DataValidationError, "churned", "gone")
case("val-cause-missing", v(lambda tmp: frame().assign(cause=None), churn_type="cause"), DataValidationError, "cause", "churn_type_policy")  # fmt: skip
case("val-cause-extra", v(lambda tmp: frame().assign(cause="price"), churn_type="cause"), DataValidationError, "cause", "only for churned")  # fmt: skip
case("val-satisfaction-text", v(with_value("satisfaction", 2, "happy"), satisfaction="satisfaction"), DataValidationError, "satisfaction", "happy")  # fmt: skip
case("val-satisfaction-scale", v(with_value("satisfaction", 2, 9), satisfaction="satisfaction", satisfaction_scale=[1, 5]), DataValidationError, "satisfaction", "satisfaction_scale")  # fmt: skip
case("val-treatment-one-arm", v(lambda tmp: frame(offer="none"), treatments=[{"column": "offer", "control": "none"}]), DataValidationError, "offer", "two arms")  # fmt: skip
case("val-treatment-control", v(lambda tmp: frame(), treatments=[{"column": "offer", "control": "nobody"}]), DataValidationError, "offer", "control")  # fmt: skip
case("val-treatment-arm", v(lambda tmp: frame(), treatments=[{"column": "offer", "control": "none", "arms": ["none", "email"]}]), DataValidationError, "offer", "call")  # fmt: skip
case("val-level-undeclared", v(lambda tmp: frame(), categorical={"contract": ["month"]}), DataValidationError, "contract", "year")  # fmt: skip
case("val-level-absent", v(lambda tmp: frame(), categorical={"contract": ["month", "year", "life"]}), DataValidationError, "contract", "absent_levels")  # fmt: skip
case("val-categorical-column", v(lambda tmp: frame(), categorical={"plan": ["a"]}), DataValidationError, "plan")  # fmt: skip
case("val-start-date", v(with_value("start", 3, "yesterday"), start_date="start"), DataValidationError, "start", "yesterday")  # fmt: skip
case("val-start-plus-tenure", v(lambda tmp: frame(tenure=30.0, start=pd.Timestamp("2024-06-01")), start_date="start", analysis_date="2025-01-01"), DataValidationError, "tenure", "analysis_date")  # fmt: skip
case("val-revenue-text", v(with_value("revenue", 3, "lots"), revenue="revenue"), DataValidationError, "revenue")  # fmt: skip
case("val-covariate-missing", v(with_value("age", 3, np.nan), covariates=["age"]), DataValidationError, "age", "missing_covariates")  # fmt: skip
case("val-zero-rows-left", v(lambda tmp: frame(tenure=0.0), zero_tenure="exclude"), DataValidationError, "no customers are left", "zero_tenure")  # fmt: skip
case("val-referral-text", v(lambda tmp: frame(n_referrals=["two"] + [0] * 299)), DataValidationError, "n_referrals", "two")  # fmt: skip
case("val-referral-negative", v(lambda tmp: frame(n_referrals=[-1] + [0] * 299)), DataValidationError, "n_referrals", "negative")  # fmt: skip
case("val-referral-fraction", v(lambda tmp: frame(refs=[0.5] + [0] * 299), referrals="refs"), DataValidationError, "refs", "whole")  # fmt: skip
case("val-coarse-tenure", v(lambda tmp: frame(n=900, tenure=12.0 * np.random.default_rng(2).integers(1, 7, 900))), CoarseTenureWarning, "tenure", "whole years")  # fmt: skip
case(
    "val-not-frame", lambda tmp: validate([1, 2], spec()), DataValidationError, "DataFrame", "list"
)
case(
    "val-empty-frame",
    lambda tmp: validate(frame().iloc[:0], spec()),
    DataValidationError,
    "no rows",
)

# -- loaders (DataValidationError, DatasetNotFoundError, ParameterError)
case("load-empty-csv", read("e.csv", ""), DataValidationError, "e.csv", "empty")
case("load-latin1", read("l.csv", (CSV_HEAD + "Jos\xe9,3,0\n").encode("latin-1")), DataValidationError, "l.csv", "encoding: latin-1", "line 2")  # fmt: skip
case(
    "load-ragged",
    read("r.csv", CSV_HEAD + "1,2,0\n2,3,1,9\n"),
    DataValidationError,
    "r.csv",
    "line 3",
    "sep:",
)
case("load-semicolon", read("s.csv", "customer_id;tenure;churned\n1;2;0\n"), DataValidationError, "s.csv", 'sep: ";"')  # fmt: skip
case("load-tab-in-csv", read("t.csv", "customer_id\ttenure\tchurned\n1\t2\t0\n"), DataValidationError, "t.csv", "sep")  # fmt: skip
case("load-wrong-encoding-declared", read("u.csv", (CSV_HEAD + "J\u00f6,3,0\n").encode("utf-16"), encoding="utf-8"), DataValidationError, "u.csv", "encoding")  # fmt: skip
case(
    "load-corrupt-parquet",
    read("c.parquet", b"PAR1 broken"),
    DataValidationError,
    "c.parquet",
    "Parquet",
)
case("load-csv-as-parquet", read("c.parquet", CSV_HEAD + "1,2,0\n"), DataValidationError, "c.parquet", "magic bytes")  # fmt: skip
case("load-truncated-parquet", lambda tmp: read_table(_truncated_parquet(tmp)), DataValidationError, "t.parquet", "damaged")  # fmt: skip
case("load-csv-folder", lambda tmp: (write("d/a.csv", CSV_HEAD)(tmp), read_table(tmp / "d"))[1], DataValidationError, "CSV file", "read_csv")  # fmt: skip
case("load-empty-folder", lambda tmp: ((tmp / "z").mkdir(), read_table(tmp / "z"))[1], DataValidationError, "holds no Parquet files")  # fmt: skip
case("load-xlsx", read("x.xlsx", b"PK"), ParameterError, "x.xlsx", ".xlsx")
case("load-missing-path", lambda tmp: read_table(tmp / "nope.csv"), DatasetNotFoundError, "nope.csv", "data_path")  # fmt: skip
case("load-duckdb-not-db", lambda tmp: load_dataset("duckdb", data_path=write("n.duckdb", "hello")(tmp), query="SELECT 1", spec_path=write("s.yml", "id: a\ntenure: t\nevent: e\n")(tmp)), DataValidationError, "n.duckdb", "DuckDB")  # fmt: skip
case("load-duckdb-bad-query", lambda tmp: load_dataset("duckdb", query="SELEC * FROM x", spec_path=write("s.yml", "id: a\ntenure: t\nevent: e\n")(tmp)), ParameterError, "query", "SELEC")  # fmt: skip
case("load-duckdb-no-query", lambda tmp: load_dataset("duckdb", spec_path=write("s.yml", "id: a\ntenure: t\nevent: e\n")(tmp)), ParameterError, "query", "spec_path")  # fmt: skip
case("load-file-no-spec", lambda tmp: load_dataset("file", data_path=write("a.csv", CSV_HEAD)(tmp)), ParameterError, "spec_path")  # fmt: skip
case("load-synthetic-data-path", lambda tmp: load_dataset("synthetic", data_path="x.csv"), ParameterError, "data_path", "dataset='file'")  # fmt: skip
case(
    "load-unknown-dataset",
    lambda tmp: load_dataset("telcoo"),
    DatasetNotFoundError,
    "telcoo",
    "Valid names",
)
case("load-unknown-knob", lambda tmp: load_dataset("synthetic", n_customers=300, hazzard_scale=2), ParameterError, "hazzard_scale", "hazard_scale")  # fmt: skip
case("load-negative-seed", lambda tmp: load_dataset("synthetic", n_customers=300, seed=-1), ParameterError, "seed", ">= 0")  # fmt: skip
case(
    "load-n-zero",
    lambda tmp: load_dataset("synthetic", n_customers=0),
    ParameterError,
    "n_customers",
    "0",
)
case("load-n-text", lambda tmp: load_dataset("synthetic", n_customers="many"), ParameterError, "n_customers", "many")  # fmt: skip
case("load-seed-float", lambda tmp: load_dataset("synthetic", n_customers=300, seed=1.5), ParameterError, "seed", "1.5")  # fmt: skip
case("load-telco-folder", lambda tmp: load_dataset("telco", data_path=tmp / "nowhere"), DatasetNotFoundError, "nowhere")  # fmt: skip
case("load-knob-on-file", lambda tmp: load_dataset("file", data_path="a.csv", spec_path=None, hazard_scale=2), ParameterError, "synthetic")  # fmt: skip
case("load-spec-path-missing", lambda tmp: load_dataset("file", data_path="a.csv", spec_path=tmp / "nope.yml"), DatasetNotFoundError, "spec_path", "nope.yml")  # fmt: skip

# -- notebook parameters (ParameterError, DatasetNotFoundError)
case("param-unknown", params({"lable": "b"}), ParameterError, "lable", "valid parameters")
case("param-int-text", params({"x": "abc"}), ParameterError, "`x`", "int")
case("param-int-float", params({"x": 1.5}), ParameterError, "`x`", "int")
case("param-float-text", params({"factor": "0.05"}), ParameterError, "`factor`", "float")
case("param-list-text", params({"items": "age"}), ParameterError, "`items`", "list")
case("param-list-elements", params({"items": [1, "a"]}), ParameterError, "`items`", "'a'")
case("param-str-list", params({"label": ["a"]}), ParameterError, "`label`", "str")
case("param-bool-word", params({"x": True}), ParameterError, "`x`", "int")
case("param-data-path", params({"data_path": "nope.csv"}, "data.ipynb"), DatasetNotFoundError, "data_path", "nope.csv")  # fmt: skip
case("param-spec-path", params({"spec_path": "nope.yml"}, "data.ipynb"), DatasetNotFoundError, "spec_path", "nope.yml")  # fmt: skip
case("param-notebook-missing", lambda tmp: params({}, "nope.ipynb")(tmp), ParameterError, "nope.ipynb", "Notebooks in")  # fmt: skip
case("param-not-ipynb", lambda tmp: __import__("workbench.runner.execute", fromlist=["x"]).plan_run(write("a.py", "")(tmp), {}), ParameterError, "a.py", ".ipynb")  # fmt: skip
case("param-file-list", lambda tmp: __import__("workbench.runner.parameters", fromlist=["x"]).load_params_file(write("p.yml", "- a\n")(tmp)), ParameterError, "p.yml", "mapping")  # fmt: skip
case("param-file-yaml", lambda tmp: __import__("workbench.runner.parameters", fromlist=["x"]).load_params_file(write("p.yml", "a: [1\n")(tmp)), ParameterError, "p.yml", "line")  # fmt: skip
case("param-cell-syntax", lambda tmp: __import__("workbench.runner.parameters", fromlist=["x"]).parse_parameters_source("x: int = ", where="nb"), ParameterError, "line 1", "valid Python")  # fmt: skip
case("param-cell-type", lambda tmp: __import__("workbench.runner.parameters", fromlist=["x"]).parse_parameters_source("x: tuple = (1,)", where="nb"), ParameterError, "`x`", "tuple")  # fmt: skip

# -- batch files (ParameterError, RunError, BatchWarning)
case("batch-missing", lambda tmp: __import__("workbench.runner.batch", fromlist=["x"]).load_batch(tmp / "nope.yml"), ParameterError, "nope.yml", "does not exist")  # fmt: skip
case("batch-yaml", batch("notebooks: [NB/trivial.ipynb\n"), ParameterError, "line", "indentation")
case("batch-not-mapping", batch("- NB/trivial.ipynb\n"), ParameterError, "notebooks", "mapping")
case(
    "batch-typo-key",
    batch("notebooks: NB/trivial.ipynb\ngird: {x: [1]}\n"),
    ParameterError,
    "gird",
    "grid",
)
case("batch-no-notebooks", batch("name: x\n"), ParameterError, "notebooks")
case("batch-empty-notebooks", batch("notebooks: []\n"), ParameterError, "notebooks", "non-empty")
case(
    "batch-unknown-notebook",
    batch("notebooks: NB/nope.ipynb\n"),
    ParameterError,
    "nope.ipynb",
    "trivial.ipynb",
)
case(
    "batch-glob-nothing",
    batch("notebooks: NB/zz*.ipynb\n"),
    ParameterError,
    "zz*.ipynb",
    "matches no",
)
case("batch-entry-keys", batch("notebooks: [{path: NB/trivial.ipynb, params: {x: 1}}]\n"), ParameterError, "notebooks", "parameters")  # fmt: skip
case("batch-entry-params", batch("notebooks: [{path: NB/trivial.ipynb, parameters: [1]}]\n"), ParameterError, "parameters", "mapping")  # fmt: skip
case("batch-entry-timeout", batch("notebooks: [{path: NB/trivial.ipynb, timeout: 0}]\n"), ParameterError, "timeout", "positive")  # fmt: skip
case(
    "batch-grid-mapping",
    batch("notebooks: NB/trivial.ipynb\ngrid: [1, 2]\n"),
    ParameterError,
    "grid",
    "mapping",
)
case(
    "batch-grid-scalar",
    batch("notebooks: NB/trivial.ipynb\ngrid: {x: 1}\n"),
    ParameterError,
    "`x`",
    "list",
)
case(
    "batch-grid-empty",
    batch("notebooks: NB/trivial.ipynb\ngrid: {x: []}\n"),
    ParameterError,
    "`x`",
    "zero runs",
)
case(
    "batch-runs-mapping",
    batch("notebooks: NB/trivial.ipynb\nruns: {x: 1}\n"),
    ParameterError,
    "runs",
    "list",
)
case(
    "batch-runs-empty",
    batch("notebooks: NB/trivial.ipynb\nruns: []\n"),
    ParameterError,
    "runs",
    "zero runs",
)
case(
    "batch-timeout-0",
    batch("notebooks: NB/trivial.ipynb\ntimeout: 0\n"),
    ParameterError,
    "timeout",
    "positive",
)
case(
    "batch-timeout-text",
    batch("notebooks: NB/trivial.ipynb\ntimeout: fast\n"),
    ParameterError,
    "timeout",
    "fast",
)
case(
    "batch-workers-0",
    batch("notebooks: NB/trivial.ipynb\nworkers: 0\n"),
    ParameterError,
    "workers",
    "positive",
)
case(
    "batch-compare",
    batch("notebooks: NB/trivial.ipynb\ncompare: x\n"),
    ParameterError,
    "compare",
    "list",
)
case("batch-name-html", batch("name: index.html\nnotebooks: NB/trivial.ipynb\n"), ParameterError, "index.html", "plain name")  # fmt: skip
case("batch-name-reserved", batch("name: summary\nnotebooks: NB/trivial.ipynb\n"), ParameterError, "summary", "reserved")  # fmt: skip
case(
    "batch-name-empty",
    batch("name: ''\nnotebooks: NB/trivial.ipynb\n"),
    ParameterError,
    "name",
    "non-empty",
)
case("batch-bad-param", lambda tmp: _plan(tmp, "notebooks: NB/trivial.ipynb\nparameters: {y: 1}\n"), ParameterError, "'y'", "valid parameters")  # fmt: skip
case("batch-duplicates", lambda tmp: _plan(tmp, "notebooks: NB/trivial.ipynb\nruns: [{factor: 0.05}, {factor: 0.050}]\n"), BatchWarning, "same parameters", "runs once")  # fmt: skip
case("batch-run-timeout-0", lambda tmp: _run(tmp, timeout=0), ParameterError, "timeout", "e.g.")
case(
    "batch-executor",
    lambda tmp: _run(tmp, executor="cluster"),
    ParameterError,
    "executor",
    "'local'",
)
case("batch-scheduler-local", lambda tmp: _run(tmp, scheduler="tcp://x:1"), ParameterError, "--scheduler", "--executor dask")  # fmt: skip
case("batch-scheduler-down", lambda tmp: _run(tmp, executor="dask", scheduler="tcp://127.0.0.1:9"), RunError, "tcp://127.0.0.1:9", "dask scheduler")  # fmt: skip


def _truncated_parquet(tmp: Path) -> Path:
    p = tmp / "t.parquet"
    frame(20).drop(columns=["start"]).to_parquet(p)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2] + b"PAR1")
    return p


def _plan(tmp: Path, text: str):
    from workbench.runner.batch import load_batch, plan_batch

    return plan_batch(load_batch(write("b.yml", text.replace("NB", str(NB)))(tmp)), out=tmp / "r")


def _run(tmp: Path, **kw):
    from workbench.runner.batch import run_batch

    p = write("b.yml", f"notebooks: {NB}/trivial.ipynb\n")(tmp)
    return run_batch(p, out=tmp / "r", progress=False, **kw)


def run_case(build, tmp: Path):
    """Run one case; return ``(error or None, warnings caught)``."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        try:
            build(tmp)
        except BaseException as e:  # noqa: BLE001 - classified by the caller
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            return e, list(rec)
    return None, list(rec)
