"""Count how bad inputs are answered: CLEAR / UNCLEAR / TRACEBACK / SILENT.

    python tests/fuzz/measure.py [--no-cli] [--out docs/fuzz-results.md] [--src OTHER/src]

``--src`` measures another copy of the package (e.g. an older commit's ``src``) on the same inputs.

Three families, all run for real:

* the library cases of :mod:`tests.fuzz.cases` (specs, validation, loaders, notebook parameters,
  batch files and batch faults), each called in-process;
* the command-line cases of ``tests/runner/test_cli_front_door.py``, each a ``workbench``
  subprocess;
* the report-security payloads of ``tests/fuzz/xss_payloads.html``, one element at a time through
  :func:`workbench.runner.sanitize.sanitize_page`.

Classes: CLEAR = the workbench's own error or warning class, naming what the case says and
suggesting a fix; UNCLEAR = the workbench's own class but the message misses the name or the fix;
TRACEBACK = any other exception (in-process) or a Python traceback on stderr (CLI); SILENT =
nothing raised or warned (for payloads: the payload survived sanitising).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
if "--src" in sys.argv:  # before anything imports workbench
    SRC = Path(sys.argv[sys.argv.index("--src") + 1]).resolve()
sys.path[:0] = [str(SRC), str(ROOT)]

from tests.fuzz.cases import CASES, FIX_WORDS, run_case  # noqa: E402
from workbench.exceptions import WorkbenchError, WorkbenchWarning  # noqa: E402

CLASSES = ("CLEAR", "UNCLEAR", "TRACEBACK", "SILENT")


def _clear(msg: str, names) -> bool:
    return all(n in msg for n in names) and any(w in msg.lower() for w in FIX_WORDS)


def classify_library(expected, names, err, caught) -> str:
    if issubclass(expected, Warning):
        ours = [w for w in caught if isinstance(w.message, WorkbenchWarning)]
        if err is not None:
            return "UNCLEAR" if isinstance(err, WorkbenchError) else "TRACEBACK"
        if not ours:
            return "SILENT"
        return "CLEAR" if any(_clear(str(w.message), names) for w in ours) else "UNCLEAR"
    if err is None:
        return "SILENT"
    if not isinstance(err, WorkbenchError):
        return "TRACEBACK"
    return "CLEAR" if _clear(str(err), names) else "UNCLEAR"


def library() -> list[tuple[str, str, str]]:
    rows = []
    for cid, build, expected, names in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            err, caught = run_case(build, Path(tmp))
        rows.append(
            (cid, classify_library(expected, names, err, caught), type(err).__name__ if err else "")
        )
    return rows


def cli() -> list[tuple[str, str, str]]:
    sys.path.insert(0, str(ROOT / "tests" / "runner"))
    import test_cli_front_door as fd

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        fd._files(work)
        env = dict(os.environ, PYTHONPATH=str(SRC), WORKBENCH_REPORTS=str(work / "reports"))
        for cid, argv, _code, text in fd.CASES:
            r = subprocess.run(
                [sys.executable, "-m", "workbench.cli", *argv],
                capture_output=True,
                text=True,
                cwd=work,
                env=env,
                timeout=300,
            )
            if "Traceback" in r.stderr:
                cls = "TRACEBACK"
            elif r.returncode == 0:
                cls = "SILENT"
            elif text in r.stderr and (
                r.stderr.startswith("usage:") or any(w in r.stderr.lower() for w in FIX_WORDS)
            ):
                cls = "CLEAR"
            else:
                cls = "UNCLEAR"
            rows.append((f"cli-{cid}", cls, str(r.returncode)))
    return rows


def payloads() -> list[tuple[str, str, str]]:
    try:
        from workbench.runner.sanitize import sanitize_page
    except ImportError:  # an older package: its report sanitiser
        from workbench.runner.export import sanitize_html as sanitize_page

    text = (ROOT / "tests" / "fuzz" / "xss_payloads.html").read_text()
    text += "\n" + (ROOT / "tests" / "fuzz" / "xss_payload.svg").read_text()
    rows = []
    danger = re.compile(
        r"<(script|iframe|object|embed|animate|set|form|base|link|foreignobject)\b|\son\w+=|"
        r"javascript:|vbscript:|127\.0\.0\.1:9|data:text/html",
        re.I,
    )
    for i, line in enumerate(ln for ln in text.splitlines() if danger.search(ln)):
        clean = sanitize_page(line)
        rows.append((f"xss-{i + 1}", "SILENT" if danger.search(clean) else "CLEAR", line[:60]))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-cli", action="store_true", help="skip the subprocess CLI cases")
    ap.add_argument("--out", help="also write the table as markdown to this file")
    ap.add_argument("--src", help="measure the workbench package under this src folder instead")
    args = ap.parse_args(argv)
    families = {"library": library(), "payloads": payloads()}
    if not args.no_cli:
        families["cli"] = cli()
    lines = [
        "| family | inputs | " + " | ".join(CLASSES) + " |",
        "|---|---|" + "---|" * len(CLASSES),
    ]
    total: Counter = Counter()
    for fam, rows in families.items():
        c = Counter(r[1] for r in rows)
        total.update(c)
        lines.append(f"| {fam} | {len(rows)} | " + " | ".join(str(c[k]) for k in CLASSES) + " |")
    lines.append(
        f"| all | {sum(total.values())} | " + " | ".join(str(total[k]) for k in CLASSES) + " |"
    )
    bad = [(f, r) for f, rows in families.items() for r in rows if r[1] != "CLEAR"]
    lines += ["", "Not clear:" if bad else "Every input answered clearly."]
    lines += [f"- {f}: {r[0]} -> {r[1]} {r[2]}" for f, r in bad]
    table = "\n".join(lines)
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
