"""reports/index.html and a batch summary from run folders (hand-made manifests, no kernel)."""

from __future__ import annotations

import json
import re

from workbench.runner.index import comparable_values, write_batch_summary, write_index
from workbench.runner.manifest import write_manifest


def _run(root, stem, name, started, status="ok", given=None, results=None, batch=None, error=None):
    d = root / stem / name
    d.mkdir(parents=True)
    write_manifest(
        d,
        {
            "notebook_stem": stem,
            "run_name": name,
            "started": started,
            "status": status,
            "duration_s": 2.5,
            "parameters_given": given or {},
            "batch": batch,
            "error": error,
        },
    )
    (d / "report.html").write_text("<html></html>")
    if results is not None:
        (d / "results.json").write_text(json.dumps(results))
    return d


def test_index_lists_every_run_newest_first_escaped(tmp_path):
    _run(tmp_path, "01-a", "old", "2026-01-01T00:00:00+00:00")
    _run(
        tmp_path,
        "02-b",
        "new",
        "2026-03-01T00:00:00+00:00",
        status="failed",
        given={"group": "<script>"},
    )
    _run(tmp_path, "01-a", "mid", "2026-02-01T00:00:00+00:00", status="timed_out")
    (tmp_path / "stray").mkdir()
    text = write_index(tmp_path).read_text()
    links = re.findall(r"href='([^']+)'", text)
    assert links == ["02-b/new/report.html", "01-a/mid/report.html", "01-a/old/report.html"]
    assert "<script>" not in text and "group = &lt;script&gt;" in text
    assert (
        "<span class='failed'>failed</span>" in text
        and "<span class='timed_out'>timed_out</span>" in text
    )
    assert "3 runs, 2 not ok" in text


def test_comparable_values_flattens_scalars_dicts_and_estimate_tables():
    results = {
        "n": 100,
        "label": "x",
        "key_findings": ["a"],
        "long": "y" * 200,
        "rmst": {"difference": 1.5, "unit": "months"},
        "cox": [{"term": "contract[one_year]", "estimate": 0.5}, {"term": "age", "estimate": 1.01}],
        "curve": [{"time": 1, "survival": 0.9}],
    }
    assert comparable_values(results) == {
        "n": 100,
        "label": "x",
        "rmst.difference": 1.5,
        "cox[contract[one_year]]": 0.5,
        "cox[age]": 1.01,
    }
    assert comparable_values(results, ["cox"]) == {"cox[contract[one_year]]": 0.5, "cox[age]": 1.01}


def test_batch_summary_compares_runs_and_links_them(tmp_path):
    a = _run(
        tmp_path,
        "02-s",
        "seg-group=a",
        "2026-01-01T00:00:00+00:00",
        given={"group": "a"},
        results={"cox": [{"term": "x", "estimate": 0.51234}], "n": 10},
        batch="seg",
    )
    b = _run(
        tmp_path,
        "02-s",
        "seg-group=b",
        "2026-01-01T00:00:01+00:00",
        status="failed",
        given={"group": "b"},
        results={"n": 12},
        batch="seg",
        error={"ename": "ModelError", "evalue": "no events in <b>"},
    )
    (tmp_path / "seg").mkdir()
    runs = [
        {
            "notebook": "notebooks/02-s.ipynb",
            "run_name": d.name,
            "run_dir": str(d),
            "status": s,
            "duration_s": 2.5,
            "skipped": False,
        }
        for d, s in ((a, "ok"), (b, "failed"))
    ]
    (tmp_path / "seg" / "batch.json").write_text(
        json.dumps({"source": "seg.yml", "started": "t", "runs": runs})
    )
    text = write_batch_summary(tmp_path, "seg").read_text()
    assert (
        "href='../02-s/seg-group=a/report.html'" in text
        and "href='../02-s/seg-group=b/report.html'" in text
    )
    assert "<th title='cox[x]'>Cox: x</th>" in text and ">0.512<" in text
    assert "ModelError: no events in &lt;b&gt;" in text
    assert "2 runs: 1 ok (0 unchanged, skipped), 1 failed, 0 timed out" in text
    # rows in batch.json's order (the batch file's), not sorted by name
    runs.reverse()
    (tmp_path / "seg" / "batch.json").write_text(
        json.dumps({"source": "seg.yml", "started": "t", "runs": runs})
    )
    text = write_batch_summary(tmp_path, "seg").read_text()
    assert text.index("seg-group=b/report.html") < text.index("seg-group=a/report.html")


def test_workbench_reports_command(tmp_path, capsys):
    from workbench.cli import main

    _run(tmp_path, "01-a", "r", "2026-01-01T00:00:00+00:00")
    assert main(["reports", "--out", str(tmp_path)]) == 0
    assert "01-a/r/report.html" in (tmp_path / "index.html").read_text()
    assert main(["reports", "--out", str(tmp_path / "none")]) == 2
    assert "reports folder" in capsys.readouterr().err


def test_index_shows_titles_data_source_headlines_and_readable_dates(tmp_path):
    d = _run(
        tmp_path,
        "02-tenure-survival",
        "default",
        "2026-12-04T17:06:34+00:00",
        results={
            "key_findings": [
                {"text": "detail", "importance": 3},
                {"text": "Median tenure is 41 months (95% CI 39 to 43).", "importance": 1},
                "Churn differs by contract (month_to_month highest).",
                {"text": "another detail", "importance": 3},
            ]
        },
        batch="default",
    )
    (d / "report.html").write_text(
        "<html><head><title>Tenure survival &amp; churn</title></head></html>"
    )
    m = json.loads((d / "manifest.json").read_text())
    m["dataset"] = {"name": "synthetic", "n": 20000}
    m["parameters"] = {"seed": 0}
    write_manifest(d, m)
    text = write_index(tmp_path).read_text()
    assert ">Tenure survival &amp; churn</a>" in text
    assert "Simulated customers (seed 0, 20,000 customers), not real data" in text
    heads = re.findall(r"<ul class='head'>(.*?)</ul>", text)[0]
    assert re.findall(r"<li>(.*?)</li>", heads) == [
        "Median tenure is 41 months (95% CI 39 to 43).",
        "Churn differs by contract (month to month highest).",
        "detail",
    ]
    assert "4 Dec 2026, 17:06 UTC" in text and "2026-12-04T17:06:34" not in text
