"""Ratios, targets and the Markdown report of ``benchmarks/run.py`` (``results.md`` is generated
from the rows that go into ``results.json``; nothing in it is typed by hand).

Ratios are peer time / workbench time from the same run (> 1: the workbench is faster), on wall
seconds and on CPU seconds; every workbench tool of a case (the engine ``workbench``, the user's
path ``workbench fit_cox`` and ``workbench fit_cox + ph_test``) gets its own ratios against the
peers that do the same work.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

WB = "workbench"
WB_FIT_COX = "workbench fit_cox"  # what notebooks call (design, fit, concordance, baseline)
WB_FIT_COX_PH = "workbench fit_cox + ph_test"  # ... and the proportional-hazards test
WB_TOOLS = (WB, WB_FIT_COX, WB_FIT_COX_PH)
R_ZPH = "R survival + cox.zph"


def comparable(wb_tool: str, peer: str) -> bool:
    """Whether ``peer`` does the work ``wb_tool`` does (the PH test is compared with cox.zph only)."""
    if wb_tool == WB_FIT_COX_PH:
        return peer == R_ZPH
    return peer != R_ZPH


def _ours(tool: str) -> bool:
    """The workbench on another path (lifelines' API on the engine, the rows beside the
    aggregates): in the per-peer table, not a candidate for 'fastest peer'."""
    return tool in ("workbench (lifelines API)", "row-level workbench")


def _ok(r: dict) -> bool:
    return r.get("status") == "ok" and bool(r.get("median_s"))


def add_ratios(rows: list[dict]) -> None:
    """Each peer row: ``ratios`` / ``cpu_ratios`` {workbench tool: peer / workbench}; the user-path
    rows: ``ratio_to_engine``; ``ratio_to_workbench`` and ``coef_max_rel_diff`` against the
    ``workbench`` row (its numbers checked against the peer's)."""
    ours = {(r["case"], r["n"], r["tool"]): r for r in rows if r["tool"] in WB_TOOLS and _ok(r)}
    for r in rows:
        if not _ok(r):
            continue
        if r["tool"] in WB_TOOLS:
            eng = ours.get((r["case"], r["n"], WB))
            if r["tool"] != WB and eng:
                r["ratio_to_engine"] = r["median_s"] / eng["median_s"]
            continue
        ratios, cpu_ratios = {}, {}
        for tool in WB_TOOLS:
            base = ours.get((r["case"], r["n"], tool))
            if base is None or not comparable(tool, r["tool"]):
                continue
            ratios[tool] = r["median_s"] / base["median_s"]
            if base.get("cpu_s") and r.get("cpu_s") == r.get("cpu_s"):
                cpu_ratios[tool] = r["cpu_s"] / base["cpu_s"]
        if ratios:
            r["ratios"], r["cpu_ratios"] = ratios, cpu_ratios
        base = ours.get((r["case"], r["n"], WB)) or ours.get((r["case"], r["n"], WB_FIT_COX))
        if base is None:
            continue
        if WB in ratios:
            r["ratio_to_workbench"] = ratios[WB]
        a, b = base.get("check"), r.get("check")
        if a and b and len(a) == len(b):
            r["coef_max_rel_diff"] = max(abs(x - y) / max(abs(y), 1e-12) for x, y in zip(b, a))


def _fmt(x, digits=3):
    if x is None or (isinstance(x, float) and x != x):
        return ""
    if isinstance(x, int):
        return f"{x:,}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def _load(r: dict) -> str:
    a, b = r.get("load_before"), r.get("load_after")
    return "" if a is None else f"{a:.1f} / {b:.1f}"


def _find(rows, case, n, tool):
    return next((r for r in rows if (r["case"], r["n"], r["tool"]) == (case, n, tool)), None)


def summary_table(rows: list[dict]) -> list[str]:
    """One line per (case, size, workbench tool): its time beside the fastest comparable peer."""
    out = [
        "| case | n | workbench tool | s | CPU s | peak MB | fastest peer | peer s | peer CPU s "
        "| peer / wb (wall) | peer / wb (CPU) | load before / after |",
        "|---|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        if r["tool"] not in WB_TOOLS or r["n"] is None:
            continue
        same = [
            p
            for p in rows
            if (p["case"], p["n"]) == (r["case"], r["n"])
            and p["tool"] not in WB_TOOLS
            and comparable(r["tool"], p["tool"])
            and not _ours(p["tool"])
        ]
        peers = [p for p in same if r["tool"] in (p.get("ratios") or {})]
        best = min(peers, key=lambda p: p["median_s"]) if peers else None
        failed = "; ".join(f"{p['tool']}: {p.get('status')}" for p in same if not _ok(p))
        if not _ok(r):
            out.append(
                f"| {r['case']} | {_fmt(r['n'])} | {r['tool']} | **{r.get('status')}** |  |  |  "
                f"|  |  |  |  | {_load(r)} |"
            )
            continue
        out.append(
            f"| {r['case']} | {_fmt(r['n'])} | {r['tool']} | {_fmt(r['median_s'])} | "
            f"{_fmt(r.get('cpu_s'))} | {_fmt(r.get('peak_mb'))} | "
            + (
                f"{best['tool']} | {_fmt(best['median_s'])} | {_fmt(best.get('cpu_s'))} | "
                f"{best['ratios'][r['tool']]:.2f} | "
                f"{_fmt((best.get('cpu_ratios') or {}).get(r['tool']))} | "
                if best
                else f"({failed or 'no peer in this run'}) |  |  |  |  | "
            )
            + f"{_load(r)} |"
        )
    return out


def peer_table(rows: list[dict]) -> list[str]:
    """Every peer's wall-time ratio to every workbench tool (blank: not comparable / not run)."""
    peers = [p for p in dict.fromkeys(r["tool"] for r in rows) if p not in WB_TOOLS]
    keys = list(
        dict.fromkeys(
            (r["case"], r["n"], r["tool"]) for r in rows if r["tool"] in WB_TOOLS and r["n"]
        )
    )
    out = [
        "| case | n | workbench tool | " + " | ".join(peers) + " |",
        "|---|---:|---|" + "---:|" * len(peers),
    ]
    for case, n, tool in keys:
        cells = []
        for p in peers:
            r = _find(rows, case, n, p)
            if r is None or not comparable(tool, p):
                cells.append("")
            elif tool in (r.get("ratios") or {}):
                cells.append(f"{r['ratios'][tool]:.2f}")
            elif r.get("status") != "ok":
                cells.append(r.get("status", ""))
            else:
                cells.append("")
        out.append(f"| {case} | {_fmt(n)} | {tool} | " + " | ".join(cells) + " |")
    return out


def all_rows(rows: list[dict]) -> list[str]:
    out = [
        "| case | n | tool | median s | runs | CPU s | peer / workbench | peak MB | load before / after "
        "| note |",
        "|---|---:|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        note = r.get("note", "") or ""
        if r.get("status") not in ("ok", None):
            note = f"**{r['status']}**: {note}"
        if "coef_max_rel_diff" in r:
            note = (note + "; " if note else "") + (
                f"numbers vs workbench: max rel. diff {r['coef_max_rel_diff']:.1e}"
            )
        if "ratio_to_engine" in r:
            note = (note + "; " if note else "") + f"{r['ratio_to_engine']:.2f}x the engine"
        ratios = "; ".join(
            f"{v:.2f} ({k.replace('workbench', 'wb')})" for k, v in (r.get("ratios") or {}).items()
        )
        out.append(
            f"| {r['case']} | {_fmt(r['n']) if r['n'] else ''} | {r['tool']} | "
            f"{_fmt(r.get('median_s'))} | {r.get('runs', '')} | {_fmt(r.get('cpu_s'))} | "
            f"{ratios} | {_fmt(r.get('peak_mb'))} | {_load(r)} | {note} |"
        )
    return out


def markdown(rows: list[dict], meta: dict) -> str:
    la0, la1 = meta["load_average_start"], meta["load_average"]
    loads = [r["load_before"] for r in rows if r.get("load_before") is not None]
    targets = "\n".join(f"- {t}" for t in meta.get("targets", []))
    return (
        "# Benchmarks\n\n"
        f"- **Date:** {meta['when']} (total {meta['total_s']:.0f} s)\n"
        f"- **Machine:** {meta['machine']}\n"
        f"- **Load (1 / 5 / 15-min average):** {la0[0]:.2f} / {la0[1]:.2f} / {la0[2]:.2f} at the "
        f"start, {la1[0]:.2f} / {la1[1]:.2f} / {la1[2]:.2f} at the end; 1-min load before the "
        + (f"cases {min(loads):.2f} to {max(loads):.2f}" if loads else "cases not recorded")
        + " (each row shows its own, before / after).\n"
        f"- **Command:** `{meta['command']}`"
        + (f" at commit {meta['commit']}" if meta.get("commit") else "")
        + "; versions: "
        + ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items() if v)
        + "\n\n"
        "Wall-clock seconds (median of the runs), CPU seconds of the timed calls (user + system of "
        "the case's process), peak RSS of the case's own process. Ratios are peer / workbench in "
        "the same run (> 1: the workbench is faster). The machine is shared: when the load is above "
        "the 2 CPUs, wall times stretch and the CPU ratios are the steadier comparison.\n\n"
        "## Each workbench tool against its fastest peer\n\n"
        "Peers are other packages (the workbench's lifelines API and the row-level functions beside "
        "the aggregates are in the next table). CPU seconds include finished child processes "
        "(the bootstrap's worker pool).\n\n"
        + "\n".join(summary_table(rows))
        + "\n\n## Against every peer (wall-time ratio peer / workbench)\n\n"
        + "\n".join(peer_table(rows))
        + ("\n\n## Targets\n\n" + targets if targets else "")
        + "\n\n## All measurements\n\n"
        + "\n".join(all_rows(rows))
        + "\n"
    )


def targets(rows: list[dict]) -> list[str]:
    """The issue's targets, each with the measured numbers and 'met' / 'NOT met'."""
    out = []

    def get(case, n, tool=WB):
        r = _find(rows, case, n, tool)
        return r if r is not None and _ok(r) else None

    def met(ok):
        return "met" if ok else "NOT met"

    for case, n, secs, mb, label in (
        ("simulate", 1_000_000, 20, 2048, "simulate 1M customers"),
        ("validate", 1_000_000, 5, None, "validate 1M rows"),
        ("predict_survival", 1_000_000, None, 2048, "predict survival of 1M customers"),
    ):
        r = get(case, n)
        if r is None:
            continue
        bits = []
        if secs is not None:
            bits.append(f"{r['median_s']:.1f} s (target < {secs} s: {met(r['median_s'] < secs)})")
        if mb is not None:
            bits.append(
                f"peak {r['peak_mb']:,.0f} MB (target < {mb:,} MB: {met(r['peak_mb'] < mb)})"
            )
        out.append(f"{label}: " + ", ".join(bits))
    for case in ("cox_days", "cox_continuous", "cox_stratified"):
        for n in (100_000, 1_000_000):
            eng, fc = get(case, n), get(case, n, WB_FIT_COX)
            if eng and fc:
                ratio = fc["median_s"] / eng["median_s"]
                out.append(
                    f"{case} at {n:,}: fit_cox {fc['median_s']:.2f} s vs engine "
                    f"{eng['median_s']:.2f} s = {ratio:.2f}x (target <= 1.2x: {met(ratio <= 1.2)}; "
                    f"CPU {fc['cpu_s']:.2f} s vs {eng['cpu_s']:.2f} s)"
                )
            for tool, peer in ((WB_FIT_COX, "R survival"), (WB_FIT_COX_PH, R_ZPH)):
                ours, r_ = get(case, n, tool), get(case, n, peer)
                if ours and r_:
                    share = ours["median_s"] / r_["median_s"]
                    cpu = ours["cpu_s"] / r_["cpu_s"] if r_.get("cpu_s") else float("nan")
                    out.append(
                        f"{case} at {n:,}: {tool} {ours['median_s']:.2f} s vs {peer} "
                        f"{r_['median_s']:.2f} s = {share:.2f} of R's time (target <= 0.2: "
                        f"{met(share <= 0.2)}; CPU {cpu:.2f})"
                    )
    for n in (100_000, 1_000_000):
        for st, un, label, tool in (
            ("logrank_stratified", "logrank", "stratified log-rank (9 strata)", WB),
            ("cox_stratified", "cox_days", "stratified Cox engine (12 strata)", WB),
            ("cox_stratified", "cox_days", "stratified fit_cox (12 strata)", WB_FIT_COX),
        ):
            a, b = get(st, n, tool), get(un, n, tool)
            if a and b:
                ratio = a["median_s"] / b["median_s"]
                out.append(
                    f"{label} at {n:,}: {a['median_s']:.3f} s vs unstratified {b['median_s']:.3f} s "
                    f"= {ratio:.2f}x (target <= 1.5x: {met(ratio <= 1.5)}; CPU "
                    f"{a['cpu_s'] / b['cpu_s']:.2f}x)"
                )
        ours, sm = get("km_logrank", n), get("km_logrank", n, "statsmodels")
        if ours and sm:  # the target is set at 1,000,000; the 100,000 row is reported as measured
            verdict = (
                f"target: no slower: {met(ours['median_s'] <= sm['median_s'])}; "
                if n >= 1_000_000
                else "no target at this size; "
            )
            out.append(
                f"Kaplan-Meier + log-rank at {n:,}: workbench {ours['median_s']:.3f} s vs statsmodels "
                f"{sm['median_s']:.3f} s ({verdict}CPU {ours['cpu_s']:.3f} s vs {sm['cpu_s']:.3f} s)"
            )
    agg = next((r for r in rows if r["case"].startswith("aggregate required") and _ok(r)), None)
    if agg is not None:
        agree = [
            r
            for r in rows
            if r["case"].startswith("aggregate agreement") and r.get("check") is not None
        ]
        diffs = [r["check"] for r in agree]
        worst = max(diffs) if diffs else float("nan")
        slice_n = f"{agree[0]['n']:,}" if agree else "no"
        out.append(
            f"aggregated survival on a {agg['n']:,}-row Parquet table (counts + Kaplan-Meier by 3 "
            f"plans + log-rank + monthly rates): {agg['median_s']:.1f} s (target < 60 s: "
            f"{met(agg['median_s'] < 60)}), peak {agg['peak_mb']:,.0f} MB (target < 1,536 MB: "
            f"{met(agg['peak_mb'] < 1536)}); largest difference from the row-level functions on "
            f"the {slice_n}-row slice {worst:.1e} over {len(diffs)} results (target <= 1e-10: "
            f"{met(bool(diffs) and worst <= 1e-10)})"
        )
    a, b = get("concordance", 100_000), get("concordance", 1_000_000)
    if a and b:
        ratio = b["cpu_s"] / a["cpu_s"]
        out.append(
            f"concordance: 10x the customers costs {ratio:.1f}x the CPU time ({a['cpu_s']:.3f} s -> "
            f"{b['cpu_s']:.3f} s; O(n log n) predicts about 12x, O(n^2) 100x)"
        )
    return out


def _machine() -> str:
    """CPU model, logical CPUs, memory and Python: enough to compare two results files."""
    cpu = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kb = next(
            int(x.split()[1])
            for x in Path("/proc/meminfo").read_text().splitlines()
            if x.startswith("MemTotal")
        )
        mem = f", {kb / 2**20:.1f} GB RAM"
    except (OSError, StopIteration, ValueError):
        mem = ""
    return f"{cpu}, {os.cpu_count()} CPUs{mem}, {platform.system()}, Python {platform.python_version()}"
