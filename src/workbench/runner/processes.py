"""Process hygiene for runs and batches: nothing outlives its parent, one writer per out folder.

* :func:`die_with_parent` asks Linux to signal a process when its parent dies
  (``prctl(PR_SET_PDEATHSIG)``): pool workers get SIGKILL, the papermill child of a run gets SIGTERM
  (it then shuts its kernel down; the kernel itself exits with its parent). So ``kill -9`` of
  ``workbench batch`` leaves no worker, papermill process or kernel behind, and the runs it did
  not finish are re-run by the next ``workbench batch`` (their manifests never say ``ok``).
* :class:`OutFolderLock` is an exclusive ``flock`` on ``<out>/.workbench.lock`` holding the
  writer's pid and batch name: a second batch writing the same reports folder waits (``wait``
  seconds) or is refused naming the holder. The kernel releases the lock when the holder dies,
  even by ``kill -9``, so a lock is never stale.
* :func:`connect_dask` connects to a Dask scheduler within a deadline and says plainly when it
  cannot.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

from ..exceptions import RunError

LOCK_FILE = ".workbench.lock"
PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL, *, parent_pid: int | None = None) -> None:
    """Have the kernel send ``sig`` to this process when its parent exits (Linux; elsewhere a
    no-op). Exits at once if the parent is already gone (``parent_pid`` no longer the parent)."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - exotic libc
            return
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


def child_preexec() -> None:  # pragma: no cover - runs between fork and exec
    """``preexec_fn`` of a run's papermill child: SIGTERM when the runner dies."""
    die_with_parent(signal.SIGTERM)


class OutFolderLock:
    """Exclusive lock of a reports folder for one batch (see module docstring).

    Parameters
    ----------
    out_root : path
        The reports folder.
    owner : str
        What holds it (the batch name), shown to a second writer.
    wait : float
        Seconds to wait for the holder to finish before refusing (0: refuse at once).
    """

    def __init__(self, out_root: str | Path, owner: str, *, wait: float = 0.0):
        self.path = Path(out_root) / LOCK_FILE
        self.owner = owner
        self.wait = float(wait)
        self._fh = None

    def _holder(self) -> dict:
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, json.JSONDecodeError):
            return {}

    def acquire(self) -> OutFolderLock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")  # noqa: SIM115 - held for the batch's lifetime
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                if self._same_file(fh):
                    break
                fh.close()  # the holder removed the file on release: lock the new one
                fh = open(self.path, "a+")  # noqa: SIM115
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.close()
                    h = self._holder()
                    raise RunError(
                        f"reports folder '{self.path.parent}' is being written by batch "
                        f"'{h.get('owner', '?')}' (pid {h.get('pid', '?')}, since "
                        f"{h.get('since', '?')}). Wait for it to finish (`--wait SECONDS`), or "
                        "give this batch another `--out`."
                    ) from None
                time.sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "owner": self.owner,
                    "since": time.strftime("%Y-%m-%d %H:%M:%S"),
                }
            )
        )
        fh.flush()
        self._fh = fh
        return self

    def _same_file(self, fh) -> bool:
        try:
            return os.stat(self.path).st_ino == os.fstat(fh.fileno()).st_ino
        except FileNotFoundError:
            return False

    def release(self) -> None:
        """Remove the lock file, then unlock (a writer waiting on the removed file sees that it
        is gone and locks a new one), so a finished batch leaves no lock file behind."""
        if self._fh is None:
            return
        import fcntl

        try:
            self.path.unlink(missing_ok=True)
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
        finally:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> OutFolderLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def connect_dask(address: str, *, timeout: float = 5.0):
    """A ``dask.distributed.Client`` on the scheduler at ``address``, or a clear error within
    ``timeout`` seconds (nothing is started or written before the connection stands).

    Raises
    ------
    RunError
        The scheduler cannot be reached (wrong address, not running, firewall).
    """
    if not isinstance(address, str) or not address.strip():
        raise RunError(f"--scheduler must be an address such as tcp://host:8786, got {address!r}.")
    t0 = time.monotonic()
    try:
        _probe_scheduler(address, timeout)  # a refused port or another kind of server: at once
        from dask.distributed import Client

        return Client(address, timeout=max(timeout - (time.monotonic() - t0), 1.0))
    except (OSError, TimeoutError, ValueError, MemoryError) as e:
        raise RunError(
            f"the Dask scheduler at '{address}' did not answer (after "
            f"{time.monotonic() - t0:.1f} s: {type(e).__name__}: "
            f"{str(e).splitlines()[0][:160] if str(e) else 'no reply'}). Start "
            "it (`dask scheduler`, then `dask worker <address>` on each machine), check the address "
            "and port, or run without --scheduler for a local cluster. Nothing was run or written."
        ) from e


class NotAScheduler(ConnectionError):
    """Something listens at the address, but it does not greet as a Dask scheduler does."""


def _probe_scheduler(address: str, timeout: float) -> None:
    """Connect to a ``tcp://host:port`` address (other protocols are left to Dask) and read the
    8-byte length a Dask scheduler sends first (its handshake). Raises OSError when nothing listens
    there, :class:`NotAScheduler` when what listens sends no such greeting within ``timeout``
    (an HTTP server, a proxy: Dask's own client would wait on it without end)."""
    import socket
    import struct
    from urllib.parse import urlsplit

    if not address.startswith("tcp://"):
        return
    u = urlsplit(address)
    if not (u.hostname and u.port):
        return
    end = time.monotonic() + timeout
    head = b""
    with socket.create_connection((u.hostname, u.port), timeout=timeout) as c:
        while len(head) < 8 and time.monotonic() < end:
            c.settimeout(max(end - time.monotonic(), 0.01))
            try:
                chunk = c.recv(8 - len(head))
            except TimeoutError:
                break
            if not chunk:
                break
            head += chunk
    if len(head) < 8 or struct.unpack("<Q", head)[0] > 1 << 26:
        raise NotAScheduler(
            "something listens there but it is not a Dask scheduler (no Dask handshake"
            + (f"; it sent {head[:8]!r})" if head else f" within {timeout:g} s)")
        )


def quiet_dask_client_logs():
    """A context in which the Dask client's own loggers print nothing below CRITICAL: a lost
    scheduler is reported once, as a :class:`RunError`, not as the client's reconnect tracebacks."""
    import contextlib
    import logging

    @contextlib.contextmanager
    def quiet():
        names = [n for n in list(logging.root.manager.loggerDict) if n.startswith("distributed")]
        loggers = [logging.getLogger(n) for n in ["distributed", *names]]
        levels = [lg.level for lg in loggers]
        for lg in loggers:
            lg.setLevel(logging.CRITICAL)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels):
                lg.setLevel(level)

    return quiet()
