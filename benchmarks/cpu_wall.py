"""Wall time and CPU seconds of a command and of every process it starts, with the machine's load.

``python benchmarks/cpu_wall.py COMMAND [ARGS...]``, e.g. what ``make reports`` runs::

    WORKBENCH_REPORTS=/tmp/r python benchmarks/cpu_wall.py \\
        .venv/bin/workbench batch batches/default.yml --workers 2 --quiet

This process makes itself a child subreaper (``PR_SET_CHILD_SUBREAPER``), so processes that outlive
their parent (a batch's warm template, forked kernels) are reparented to it and their CPU is
counted once they exit. Prints one line: exit code, wall seconds, CPU seconds (user + system) and
the 1-minute load average before and after. On a machine shared with other work the wall time
depends on the load; the CPU seconds much less.
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    rc = subprocess.call(argv)
    wall = time.perf_counter() - t0
    while True:  # wait for every descendant that outlived the command
        try:
            os.wait()
        except ChildProcessError:
            break
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"[cpu_wall] exit {rc}, wall {wall:.1f} s, CPU {r.ru_utime + r.ru_stime:.1f} s "
        f"(user {r.ru_utime:.1f}, system {r.ru_stime:.1f}), load {load0:.1f} -> "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
        file=sys.stderr,
    )
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
