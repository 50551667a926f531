"""Parameters cell parsing and validation, CLI values, parameter files."""

from __future__ import annotations

import nbformat
import pytest

from workbench.exceptions import DatasetNotFoundError, ParameterError
from workbench.runner.execute import plan_run, resolve_paths
from workbench.runner.parameters import (
    check_paths,
    effective_parameters,
    load_params_file,
    parse_cli_value,
    parse_parameters_source,
    read_parameters,
    validate_parameters,
)

SOURCE = """dataset: str = "synthetic"  # synthetic | telco | file
n_customers: int = 20000  # synthetic only
alpha: float = 0.05  # significance level
horizons: list = [6, 12, 24]  # months, "quoted # not a comment"
show: bool = True
"""


def test_parse_parameters_source_reads_name_type_default_help():
    p = parse_parameters_source(SOURCE)
    assert list(p) == ["dataset", "n_customers", "alpha", "horizons", "show"]
    assert (p["dataset"].type, p["dataset"].default, p["dataset"].help) == (
        "str",
        "synthetic",
        "synthetic | telco | file",
    )
    assert p["horizons"].default == [6, 12, 24]
    assert p["horizons"].help == 'months, "quoted # not a comment"'
    assert p["show"].help == "" and p["show"].default is True


@pytest.mark.parametrize(
    "source, match",
    [
        ("x = 1", r"line 1 must read `name: type = default"),
        ("x: tuple = (1, 2)", r"type 'tuple'; use one of str, int"),
        ("x: int = len('a')", r"default of `x` must be a literal"),
        ("x: int", r"`x` needs a default"),
        ("x: int = (", r"line 1 is not valid Python"),
    ],
)
def test_parse_parameters_source_rejects_malformed_lines(source, match):
    with pytest.raises(ParameterError, match=match):
        parse_parameters_source(source)


def test_read_parameters_from_fixture_notebook(nbdir):
    p = read_parameters(nbdir / "trivial.ipynb")
    assert {k: v.type for k, v in p.items()} == {
        "x": "int",
        "label": "str",
        "factor": "float",
        "items": "list",
    }


def test_read_parameters_without_parameters_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("x = 1"))
    path = tmp_path / "plain.ipynb"
    nbformat.write(nb, str(path))
    assert read_parameters(path) == {}
    with pytest.raises(
        ParameterError, match=r"unknown parameter 'x'; this notebook declares no parameters"
    ):
        validate_parameters(read_parameters(path), {"x": 2})


def test_validate_refuses_unknown_name_listing_valid_parameters():
    declared = parse_parameters_source(SOURCE)
    with pytest.raises(
        ParameterError,
        match=r"unknown parameter 'n_customer'; valid parameters: "
        r"dataset: str = 'synthetic'  # synthetic \| telco \| file; n_customers: int",
    ):
        validate_parameters(declared, {"n_customer": 10})


@pytest.mark.parametrize(
    "name, value, match",
    [
        ("n_customers", 2.5, r"`n_customers` must be int, got 2.5 \(float\)"),
        ("n_customers", True, r"`n_customers` must be int, got True \(bool\)"),
        ("alpha", "0.1", r"`alpha` must be float, got '0.1' \(str\)"),
        ("horizons", 12, r"`horizons` must be list, got 12 \(int\)"),
        ("dataset", 3, r"`dataset` must be str"),
    ],
)
def test_validate_refuses_wrong_types(name, value, match):
    with pytest.raises(ParameterError, match=match):
        validate_parameters(parse_parameters_source(SOURCE), {name: value})


def test_validate_widens_int_to_float_and_merges_defaults():
    declared = parse_parameters_source(SOURCE)
    given = validate_parameters(declared, {"alpha": 1, "horizons": [3]})
    assert given == {"alpha": 1.0, "horizons": [3]} and isinstance(given["alpha"], float)
    eff = effective_parameters(declared, given)
    assert eff["alpha"] == 1.0 and eff["dataset"] == "synthetic" and eff["horizons"] == [3]


@pytest.mark.parametrize(
    "text, value",
    [
        ("12", 12),
        ("0.1", 0.1),
        ("true", True),
        ("[6, 12]", [6, 12]),
        ("telco", "telco"),
        ("'12'", "12"),
        ("{a: 1}", {"a": 1}),
        ("", ""),
    ],
)
def test_parse_cli_value_reads_yaml_literals(text, value):
    assert parse_cli_value(text) == value


def test_load_params_file(tmp_path):
    f = tmp_path / "p.yml"
    f.write_text("x: 3\nitems: [1, 2, 3]\n")
    assert load_params_file(f) == {"x": 3, "items": [1, 2, 3]}
    f.write_text("x: [1, 2\n")
    with pytest.raises(ParameterError, match=r"p.yml': line 2, column 1"):
        load_params_file(f)
    f.write_text("- 1\n- 2\n")
    with pytest.raises(ParameterError, match=r"must hold a mapping `name: value`, got list"):
        load_params_file(f)
    with pytest.raises(ParameterError, match=r"parameters file '.*nope.yml' does not exist"):
        load_params_file(tmp_path / "nope.yml")


def test_missing_data_file_names_path_and_parameter(tmp_path, nbdir):
    missing = tmp_path / "no-such-folder"
    with pytest.raises(
        DatasetNotFoundError, match=r"data file '.*no-such-folder' named by parameter `data_path`"
    ):
        check_paths({"data_path": str(missing)})
    with pytest.raises(
        DatasetNotFoundError, match=r"named by parameter `spec_path` does not exist"
    ):
        plan_run(
            nbdir / "data.ipynb",
            {"dataset": "file", "spec_path": "nope.yml"},
            paths_relative_to=tmp_path,
        )


def test_resolve_paths_makes_relative_paths_absolute(tmp_path):
    out = resolve_paths({"data_path": "d/x.csv", "spec_path": "", "x": "rel"}, tmp_path)
    assert out == {"data_path": str(tmp_path / "d" / "x.csv"), "spec_path": "", "x": "rel"}


def test_unknown_notebook_lists_the_folder(nbdir):
    with pytest.raises(
        ParameterError,
        match=r"notebook '.*nope.ipynb' does not exist\. Notebooks in .*trivial.ipynb",
    ):
        plan_run(nbdir / "nope.ipynb")
    with pytest.raises(ParameterError, match=r"is not a \.ipynb file"):
        plan_run(nbdir / "conftest.py")


def test_plan_run_computes_the_dataset_fingerprint(nbdir, tmp_path):
    from workbench.data import load_dataset

    plan = plan_run(nbdir / "data.ipynb", {"n_customers": 500, "seed": 3}, out=tmp_path)
    assert (
        plan.dataset["fingerprint"]
        == load_dataset("synthetic", n_customers=500, seed=3).fingerprint
    )
    assert plan.dataset["n"] == 500
    other = plan_run(nbdir / "data.ipynb", {"n_customers": 500, "seed": 4}, out=tmp_path)
    assert other.key != plan.key and other.dataset["fingerprint"] != plan.dataset["fingerprint"]
    again = plan_run(
        nbdir / "data.ipynb", {"n_customers": 500, "seed": 3}, out=tmp_path, run_name="b"
    )
    assert again.key == plan.key
    assert plan_run(nbdir / "trivial.ipynb", out=tmp_path).dataset is None
