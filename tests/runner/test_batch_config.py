"""Batch files: grid expansion, run names and the errors of a bad batch file."""

from __future__ import annotations

import json

import pytest

from workbench.exceptions import DatasetNotFoundError, ParameterError
from workbench.runner.batch import _run_names, load_batch, parameter_sets, plan_batch


def write(tmp_path, text, name="b.yml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_parameter_sets_cartesian_product_and_runs():
    sets = parameter_sets({"alpha": 0.1}, {"x": [1, 2], "label": ["a", "b", "c"]}, None)
    assert len(sets) == 6
    assert sets[0] == {"alpha": 0.1, "x": 1, "label": "a"} and sets[-1] == {
        "alpha": 0.1,
        "x": 2,
        "label": "c",
    }
    both = parameter_sets(None, {"x": [1, 2]}, [{"label": "a"}, {"label": "b"}])
    assert both == [
        {"label": "a", "x": 1},
        {"label": "a", "x": 2},
        {"label": "b", "x": 1},
        {"label": "b", "x": 2},
    ]
    assert parameter_sets(None, None, None) == [{}]


def test_load_batch_grid_and_names(tmp_path, nbdir):
    p = write(
        tmp_path,
        f"name: demo\nnotebooks: {nbdir}/tri*.ipynb\ngrid:\n  x: [1, 2]\n  label: [a]\n"
        "timeout: 30\nworkers: 2\ncompare: [x]\n",
    )
    spec = load_batch(p)
    assert spec.name == "demo" and [n.name for n in spec.notebooks] == ["trivial.ipynb"]
    assert spec.parameter_sets == [{"x": 1, "label": "a"}, {"x": 2, "label": "a"}]
    assert (spec.timeout, spec.workers, spec.compare) == (30.0, 2, ["x"])
    assert _run_names(spec) == ["demo-x=1", "demo-x=2"]
    plans = plan_batch(spec, out=tmp_path / "r")
    assert [pl.run_dir.relative_to(tmp_path / "r").as_posix() for pl in plans] == [
        "trivial/demo-x=1",
        "trivial/demo-x=2",
    ]


def test_run_names_leave_out_paths_and_lists_that_go_with_another_parameter(tmp_path, nbdir):
    """data_path and a list given with each data set would only lengthen the names; a list that
    varies on its own (a grid of horizons) stays in them."""
    p = write(
        tmp_path,
        f"name: g\nnotebooks: {nbdir}/trivial.ipynb\nruns:\n"
        "  - {dataset: telco, data_path: ../data/a-very-long-folder-name, cov: [a, b, c]}\n"
        "  - {dataset: synthetic, seed: 1}\n"
        "grid:\n  horizons: [[6], [12]]\n",
    )
    names = _run_names(load_batch(p))
    assert names == [
        "g-dataset=telco_horizons=-6",
        "g-dataset=telco_horizons=-12",
        "g-dataset=synthetic_horizons=-6-_seed=1",
        "g-dataset=synthetic_horizons=-12-_seed=1",
    ]
    # a path that alone tells two runs apart stays in their names
    q = write(
        tmp_path,
        f"name: h\nnotebooks: {nbdir}/trivial.ipynb\nruns:\n"
        "  - {data_path: one}\n  - {data_path: two}\n",
        "h.yml",
    )
    assert _run_names(load_batch(q)) == ["h-data_path=one", "h-data_path=two"]


def test_default_name_is_the_file_stem_and_single_run_is_named_after_batch(tmp_path, nbdir):
    spec = load_batch(write(tmp_path, f"notebooks: [{nbdir}/trivial.ipynb]\n", "nightly.yml"))
    assert (
        spec.name == "nightly" and spec.parameter_sets == [{}] and _run_names(spec) == ["nightly"]
    )


def test_notebook_entry_with_its_own_parameters(tmp_path, nbdir):
    spec = load_batch(
        write(
            tmp_path,
            f"notebooks:\n  - {nbdir}/trivial.ipynb\n"
            f"  - path: {nbdir}/sleep.ipynb\n    parameters: {{seconds: 1}}\n",
        )
    )
    plans = plan_batch(spec, out=tmp_path / "r")
    assert [pl.given for pl in plans] == [{}, {"seconds": 1.0}]


def test_malformed_yaml_gives_line_and_problem(tmp_path):
    p = write(tmp_path, "notebooks: [a.ipynb]\ngrid:\n  x: [1, 2\n  y: 3\n")
    with pytest.raises(
        ParameterError, match=r"b.yml: malformed YAML at line 4, column 4: expected ',' or ']'"
    ):
        load_batch(p)
    p = write(tmp_path, "notebooks: a\n grid: 1\n")
    with pytest.raises(
        ParameterError, match=r"malformed YAML at line 2, column 6: mapping values are not allowed"
    ):
        load_batch(p)


def test_unknown_key_names_its_line(tmp_path, nbdir):
    p = write(tmp_path, f"notebooks: {nbdir}/trivial.ipynb\n\ngird:\n  x: [1]\n")
    with pytest.raises(
        ParameterError,
        match=r"line 3 \(`gird`\): unknown key 'gird' \(did you mean 'grid'\?\); valid keys: name",
    ):
        load_batch(p)


def test_zero_run_grid_and_empty_runs(tmp_path, nbdir):
    p = write(tmp_path, f"notebooks: {nbdir}/trivial.ipynb\ngrid:\n  x: []\n")
    with pytest.raises(
        ParameterError, match=r"line 2 \(`grid`\): the grid expands to zero runs: `x` has no values"
    ):
        load_batch(p)
    p = write(tmp_path, f"notebooks: {nbdir}/trivial.ipynb\nruns: []\n")
    with pytest.raises(ParameterError, match=r"`runs` is empty: the batch expands to zero runs"):
        load_batch(p)
    p = write(tmp_path, f"notebooks: {nbdir}/trivial.ipynb\ngrid:\n  x: 1\n")
    with pytest.raises(ParameterError, match=r"grid `x` must be a list of values, got 1"):
        load_batch(p)


def test_unknown_notebook_and_empty_glob(tmp_path, nbdir):
    p = write(tmp_path, f"notebooks:\n  - {nbdir}/nope.ipynb\n")
    with pytest.raises(
        ParameterError,
        match=r"line 1 \(`notebooks`\): unknown notebook '.*nope.ipynb'.*"
        r"Notebooks in .*: data.ipynb, fail.ipynb",
    ):
        load_batch(p)
    p = write(tmp_path, f"notebooks: {nbdir}/zz-*.ipynb\n")
    with pytest.raises(ParameterError, match=r"'.*zz-\*.ipynb' matches no notebook"):
        load_batch(p)
    p = write(tmp_path, "grid: {x: [1]}\n")
    with pytest.raises(ParameterError, match=r"`notebooks:` is missing"):
        load_batch(p)
    with pytest.raises(ParameterError, match=r"batch file '.*none.yml' does not exist"):
        load_batch(tmp_path / "none.yml")


def test_bad_parameters_refused_before_anything_runs(tmp_path, nbdir):
    spec = load_batch(
        write(tmp_path, f"notebooks: {nbdir}/trivial.ipynb\ngrid:\n  x: [1, 'two']\n")
    )
    with pytest.raises(
        ParameterError, match=r"trivial.ipynb: parameter `x` must be int, got 'two'"
    ):
        plan_batch(spec, out=tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_missing_data_file_in_batch_names_path_and_parameter(tmp_path, nbdir):
    spec = load_batch(
        write(
            tmp_path,
            f"notebooks: {nbdir}/data.ipynb\nparameters:\n  dataset: telco\n"
            "  data_path: no/such/telco-folder\n",
        )
    )
    with pytest.raises(
        DatasetNotFoundError,
        match=r"data file 'no/such/telco-folder' named by parameter `data_path`",
    ):
        plan_batch(spec, out=tmp_path / "r")


@pytest.mark.parametrize(
    "text, match",
    [
        ("timeout: -1", r"`timeout` must be a positive number of seconds, got -1"),
        ("workers: 0", r"`workers` must be a positive integer, got 0"),
        ("compare: x", r"`compare` must be a list of recorded names"),
        ("parameters: [1]", r"`parameters` must be a mapping"),
        ("runs: [1]", r"`runs` must be a list of mappings"),
    ],
)
def test_other_bad_values(tmp_path, nbdir, text, match):
    with pytest.raises(ParameterError, match=match):
        load_batch(write(tmp_path, f"notebooks: {nbdir}/trivial.ipynb\n{text}\n"))


def test_runs_go_longest_first_by_their_last_recorded_duration(tmp_path, nbdir):
    """Runs never run before first (file order), then by the duration their last manifest
    recorded, longest first; so the longest run does not start last."""
    from workbench.runner.batch import _longest_first

    p = write(tmp_path, f"name: o\nnotebooks: {nbdir}/trivial.ipynb\ngrid:\n  x: [1, 2, 3, 4]\n")
    plans = plan_batch(load_batch(p), out=tmp_path / "r")
    for plan, seconds in zip(plans, (2.0, None, 9.5, 4.0)):
        if seconds is not None:
            plan.run_dir.mkdir(parents=True)
            (plan.run_dir / "manifest.json").write_text(json.dumps({"duration_s": seconds}))
    order = [pl.run_name for pl in _longest_first(plans)]
    assert order == ["o-x=2", "o-x=3", "o-x=4", "o-x=1"]
