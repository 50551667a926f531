"""Warm kernels: a pre-imported template process forks each run's papermill process and kernel.

A cold run pays, before its first analysis cell, for a Python start, ``ipykernel``'s imports and
the notebook's import cell (``workbench``, pandas, scipy, statsmodels, lifelines, matplotlib):
about 3 s of CPU per run on this project's notebooks (``docs/runner.md``). Instead a **template**
process (this file run as a script) imports all of that once and waits on a Unix socket: one per
local batch, started before the batch plans its runs and shared by its pool workers
(:class:`SharedTemplate`), or one per Dask worker (:func:`template`). For each run the template
forks the run's papermill process, and on that process's request (:class:`WarmKernelManager`)
its kernel: an ordinary ``ipykernel`` (``IPKernelApp``) with the
run's environment, working directory, argv and log file, talking ZMQ to papermill as a cold kernel
does. Every run gets fresh processes of its own (the template never executes notebook code); what
they share with the template is the modules already imported, copy-on-write.

Process hygiene, as for cold kernels (:mod:`workbench.runner.processes`):

* the template runs in its own session and exits when the process that started it dies (EOF on
  its stdin pipe, and ``PR_SET_PDEATHSIG``);
* a forked papermill process stops (SIGTERM) when the worker waiting for it dies (a ``pidfd``
  watch), so a killed worker's run is not left running beside its retry;
* a forked kernel is its own session and process group (``killpg`` stops it and its children), gets
  SIGKILL when the template dies, and exits when its papermill process dies (``pidfd`` watch);
* numpy's global random state is re-seeded from the OS in every kernel, as a cold start would be.

Only kernels of the template's own interpreter (``<python> -m ipykernel_launcher ...``) are forked;
any other kernel spec starts cold, as does every run when the template is unavailable.
This module imports only the standard library and ``jupyter_client`` at module level: the
papermill child (``_child.py``) loads it by path without importing ``workbench``.
"""

from __future__ import annotations

import functools
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

SOCKET_ENV = "WORKBENCH_WARM_SOCKET"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
#: what the template imports once: the kernel's own stack, then what the notebooks import
PRELOAD = (
    "papermill",
    "nbclient",
    "jupyter_client.manager",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",  # imported by IPKernelApp as it starts (debugpy, pdb, ...)
    "numpy",
    "pandas",
    "scipy.stats",
    "scipy.optimize",
    "scipy.special",
    "matplotlib",
    "matplotlib.pyplot",
    "statsmodels.api",
    "lifelines",
    "workbench",
    "workbench.data",
    "workbench.retention",
    "workbench.survival",
    "workbench.drivers",
    "workbench.effects",
    "workbench.value",
    "workbench.purchases",
    "workbench.plotting",
    "workbench.privacy",
)
READY = "workbench-warm-ready"
PR_SET_PDEATHSIG = 1


def _pdeathsig(sig: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - exotic libc
            pass


def supported() -> bool:
    """Forked kernels need ``fork`` and ``pidfd_open`` (Linux >= 5.3)."""
    return sys.platform.startswith("linux") and hasattr(os, "pidfd_open") and hasattr(os, "fork")


# ---------------------------------------------------------------------------------- template side
def _preload(names=PRELOAD) -> list[str]:
    import importlib

    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)  # what IPKernelApp sets before user code
    sys.modules.setdefault("rfc3987_syntax", None)  # see _child.fast_imports
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # an optional package missing: the kernel imports it itself, cold
            failed.append(name)
    return failed


def _watch_pid(pid: int, *, term: bool = False) -> None:
    """Exit this process (a forked kernel, or papermill process: ``term``, SIGTERM first so it
    notes the running cell and shuts its kernel down) as soon as process ``pid`` is gone."""
    import threading

    try:
        fd = os.pidfd_open(pid)
    except OSError:
        os._exit(1)

    def watch() -> None:
        select.select([fd], [], [])
        if term:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(10)
        os._exit(1)

    threading.Thread(target=watch, name="workbench-watch-papermill", daemon=True).start()


def _become_kernel(req: dict) -> None:  # pragma: no cover - runs in the forked child
    """The forked child: set up the run's process state and run ``IPKernelApp`` (never returns)."""
    code = 1
    try:
        os.setsid()  # its own session, as jupyter_client starts a cold kernel (and scheduler group)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _pdeathsig(signal.SIGKILL)
        if os.getppid() != req["_template"]:
            os._exit(1)
        _watch_pid(int(req["watch"]))
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        out, err = (req.get("_fds") or [null, null])[:2]
        os.dup2(out, 1)  # the papermill process's own stdout / stderr (the run's run.log)
        os.dup2(err, 2)
        os.environ.clear()
        os.environ.update(req["env"])
        os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
        os.chdir(req["cwd"])
        sys.path.insert(0, req["cwd"])  # as `python -m ipykernel_launcher` started in cwd
        sys.argv = ["ipykernel_launcher", *req["args"]]
        np = sys.modules.get("numpy")
        if np is not None:
            np.random.seed()  # a cold kernel's global state is seeded from the OS too
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            import atexit

            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _become_papermill(req: dict) -> None:  # pragma: no cover - runs in the forked child
    """The forked child as a run's papermill process (``_child.main``; never returns): its own
    session (the runner's timeout stops the whole group), SIGTERM when the template dies."""
    code = 1
    try:
        os.setsid()
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _pdeathsig(signal.SIGTERM)
        if os.getppid() != req["_template"]:
            os._exit(1)
        if req.get("watch"):  # the worker waiting for this run (a batch's shared template)
            _watch_pid(int(req["watch"]), term=True)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        out = (req.get("_fds") or [null])[0]
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.environ.clear()
        os.environ.update(req["env"])
        os.chdir(req["cwd"])
        import importlib.util

        path = Path(__file__).resolve().with_name("_child.py")
        spec = importlib.util.spec_from_file_location("_workbench_child", path)
        child = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(child)
        sys.argv = [str(path), req["spec"]]
        code = child.main(req["spec"])
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve(sock_path: str) -> int:  # pragma: no cover - runs in the template process
    """The template's loop: preload, then fork one kernel per request until the worker goes."""
    import selectors

    _pdeathsig(signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # its worker decides; EOF on stdin ends it
    failed = _preload()
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path + ".tmp")
    srv.listen(64)
    os.rename(sock_path + ".tmp", sock_path)  # the socket's path exists once it accepts
    sel = selectors.DefaultSelector()
    sel.register(srv, selectors.EVENT_READ, "accept")
    sel.register(sys.stdin.fileno(), selectors.EVENT_READ, "stdin")
    sys.stdout.write(json.dumps({"ready": READY, "pid": os.getpid(), "not_preloaded": failed}))
    sys.stdout.write("\n")
    sys.stdout.flush()
    me = os.getpid()
    children: dict[int, int] = {}  # pidfd -> pid
    waiting: dict[int, socket.socket] = {}  # pidfd of a papermill process -> its worker's socket
    while True:
        for key, _ in sel.select():
            if key.data == "stdin":
                if not os.read(key.fd, 4096):  # the worker is gone
                    return 0
            elif key.data == "child":
                pid = children.pop(key.fd)
                sel.unregister(key.fd)
                os.close(key.fd)
                try:
                    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
                except ChildProcessError:
                    status = -1
                waiter = waiting.pop(key.fd, None)
                if waiter is not None:
                    with waiter:
                        try:
                            _send(waiter, {"exit": status})
                        except OSError:
                            pass
            else:
                conn, _ = srv.accept()
                with conn:
                    conn.settimeout(10)
                    fds: list[int] = []
                    try:
                        _, fds, _, _ = socket.recv_fds(conn, 1, 2)
                        req = json.loads(_read_line(conn))
                    except (OSError, ValueError) as e:
                        for f in fds:
                            os.close(f)
                        try:
                            _send(conn, {"error": f"bad request: {e}"})
                        except OSError:
                            pass
                        continue
                    req["_template"] = me
                    req["_fds"] = fds
                    pid = os.fork()
                    if pid == 0:
                        sel.close()
                        srv.close()
                        conn.close()
                        for c in waiting.values():
                            c.close()
                        (_become_papermill if req.get("kind") == "run" else _become_kernel)(req)
                    for f in fds:
                        os.close(f)
                    fd = os.pidfd_open(pid)
                    children[fd] = pid
                    sel.register(fd, selectors.EVENT_READ, "child")
                    _send(conn, {"pid": pid})
                    if req.get("kind") == "run":  # the worker waits on it for the exit status
                        waiting[fd] = conn.dup()


def _read_line(conn: socket.socket) -> str:
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf.decode("utf-8")


def _send(conn: socket.socket, obj: dict) -> None:
    conn.sendall(json.dumps(obj).encode("utf-8") + b"\n")


# ---------------------------------------------------------------------------------- worker side
class Template:
    """A template process (see module docstring): a worker's own (:func:`template`), or a local
    batch's one, shared by its pool workers (``wait=False``: it imports while the batch plans;
    the workers reach it through :class:`SharedTemplate`)."""

    def __init__(self, token: str, *, timeout: float = 180.0, wait: bool = True):
        import tempfile

        self.token = token
        self.dir = tempfile.mkdtemp(prefix="wb-warm-")
        self.socket = str(Path(self.dir) / "kernel.sock")
        env = dict(os.environ)
        env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        env["MPLBACKEND"] = INLINE_BACKEND
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "serve", self.socket],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        self.info: dict = {}
        self.start_s = None
        self._t0 = time.monotonic()
        if wait:
            self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else b""
        try:
            self.info = json.loads(line or b"{}")
        except ValueError:
            self.info = {}
        self.start_s = round(time.monotonic() - self._t0, 3)
        if self.info.get("ready") != READY:
            self.close()
            raise RuntimeError(
                f"the warm-kernel template did not start within {timeout:g} s; runs start cold"
            )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def shared(self) -> dict:
        """What a pool worker needs to reach this template (:class:`SharedTemplate`)."""
        return {"socket": self.socket, "pid": self.proc.pid, "token": self.token}

    def spawn(self, spec_json: str, *, env: dict, cwd: str, log_fd: int) -> ForkedRun:
        """Fork a run's papermill process (``_child.main(spec_json)``) from the template, writing
        to ``log_fd``; the returned handle waits like :class:`subprocess.Popen`. The process
        stops (SIGTERM) when this process, which waits for it, dies."""
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            c.settimeout(30)
            c.connect(self.socket)
            socket.send_fds(c, [b"F"], [log_fd])
            req = {"kind": "run", "spec": spec_json, "env": dict(env), "cwd": cwd}
            _send(c, req | {"watch": os.getpid()})
            reply = json.loads(_read_line(c) or "{}")
        except BaseException:
            c.close()
            raise
        if "pid" not in reply:
            c.close()
            raise OSError(f"warm template refused the run: {reply.get('error', 'no reply')}")
        return ForkedRun(int(reply["pid"]), c)

    def close(self) -> None:
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(5)
        except Exception:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class SharedTemplate:
    """A pool worker's handle on its batch's template (:meth:`Template.shared`)."""

    spawn = Template.spawn

    def __init__(self, socket: str, pid: int, token: str = ""):
        self.socket, self.pid, self.token = socket, int(pid), token

    def alive(self) -> bool:
        try:  # a zombie (exited, not yet reaped by the batch) counts as gone
            return Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return False

    def ready(self, timeout: float = 180.0) -> bool:
        """True once the template accepts requests; False when it died or ``timeout`` passed."""
        end = time.monotonic() + timeout
        while not os.path.exists(self.socket):
            if time.monotonic() > end or not self.alive():
                return False
            time.sleep(0.05)
        return True


_TEMPLATE: Template | None = None


def template(token: str) -> Template | None:
    """This process's template for batch ``token`` (a new batch starts a fresh one, so edited
    sources are picked up); None where forking kernels is not supported or the start failed."""
    global _TEMPLATE
    if not supported() or os.environ.get("WORKBENCH_COLD_KERNELS"):
        return None
    if _TEMPLATE is not None and (_TEMPLATE.token != token or not _TEMPLATE.alive()):
        _TEMPLATE.close()
        _TEMPLATE = None
    if _TEMPLATE is None:
        try:
            _TEMPLATE = Template(token)
        except (OSError, RuntimeError):
            return None
    return _TEMPLATE


# ---------------------------------------------------------------------------------- papermill side
def request_kernel(sock_path: str, *, args, env, cwd) -> int:
    """Ask the template at ``sock_path`` for a kernel; return its pid. The kernel writes to this
    process's stdout and stderr (passed along with the request), as a cold kernel would."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.settimeout(30)
        c.connect(sock_path)
        socket.send_fds(c, [b"F"], [1, 2])
        _send(c, {"args": list(args), "env": dict(env), "cwd": cwd, "watch": os.getpid()})
        reply = json.loads(_read_line(c) or "{}")
    if "pid" not in reply:
        raise OSError(f"warm-kernel template refused: {reply.get('error', 'no reply')}")
    return int(reply["pid"])


def kernel_args(cmd: list[str]) -> list[str] | None:
    """The ipykernel arguments of ``cmd`` when it starts this interpreter's ipykernel, else None."""
    if "-m" not in cmd:
        return None
    i = cmd.index("-m")
    if i + 1 >= len(cmd) or cmd[i + 1] != "ipykernel_launcher":
        return None
    exe = cmd[0]
    if exe in ("python", "python3"):
        exe = sys.executable
    try:
        same = os.path.realpath(exe) == os.path.realpath(sys.executable)
    except OSError:
        return None
    return list(cmd[i + 2 :]) if same else None


class ForkedRun:
    """A papermill process forked by the template: ``wait``/``poll`` like :class:`subprocess.Popen`
    (the exit status comes from the template, its parent, over the request's socket)."""

    def __init__(self, pid: int, conn: socket.socket):
        self.pid = pid
        self.returncode = None
        self._conn = conn
        self._buf = b""

    def _read(self, timeout: float | None) -> bool:
        self._conn.settimeout(timeout)
        try:
            chunk = self._conn.recv(4096)
        except (TimeoutError, BlockingIOError):
            return False
        except OSError:
            chunk = b""
        self._buf += chunk
        if chunk and not self._buf.endswith(b"\n"):
            return False
        try:
            self.returncode = int(json.loads(self._buf or b"{}").get("exit", -1))
        except ValueError:
            self.returncode = -1  # the template died: the run's status is unknown
        self._conn.close()
        return True

    def poll(self):
        if self.returncode is None:
            self._read(0.0)
        return self.returncode

    def wait(self, timeout: float | None = None):
        end = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            self._read(left)
        return self.returncode


class ForkedProcess:
    """The part of :class:`subprocess.Popen` that jupyter_client uses, for a kernel that is not
    this process's child (its parent is the template): liveness from a ``pidfd``."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode = None
        try:
            self._fd = os.pidfd_open(pid)
        except OSError:
            self._fd = None
            self.returncode = -1

    def poll(self):
        if self.returncode is None and self._fd is not None:
            if select.select([self._fd], [], [], 0)[0]:
                self.returncode = 0  # exit status belongs to the template (its parent)
                os.close(self._fd)
                self._fd = None
        return self.returncode

    def wait(self, timeout: float | None = None):
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    terminate = functools.partialmethod(send_signal, signal.SIGTERM)
    kill = functools.partialmethod(send_signal, signal.SIGKILL)


def _manager_class():
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning.local_provisioner import LocalProvisioner

    class ForkedProvisioner(LocalProvisioner):
        """Launches the kernel by asking the template to fork it (cold when it cannot)."""

        async def launch_kernel(self, cmd, **kwargs):
            sock = os.environ.get(SOCKET_ENV)
            args = kernel_args(list(cmd)) if sock else None
            if args is None:
                return await super().launch_kernel(cmd, **kwargs)
            env = kwargs.get("env") or dict(os.environ)
            env = {k: v for k, v in env.items() if k != SOCKET_ENV}
            cwd = str(kwargs.get("cwd") or os.getcwd())
            try:
                pid = request_kernel(sock, args=args, env=env, cwd=cwd)
            except OSError:
                return await super().launch_kernel(cmd, **kwargs)
            self.process = ForkedProcess(pid)
            self.pid = self.pgid = pid
            self.cwd = cwd
            return self.connection_info

    class WarmKernelManager(AsyncKernelManager):
        """An ``AsyncKernelManager`` whose kernels are forked by the template."""

        async def _async_pre_start_kernel(self, **kw):
            if self.provisioner is None:
                kid = self.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
                self.kernel_id = kid
                self.provisioner = ForkedProvisioner(
                    kernel_id=kid, kernel_spec=self.kernel_spec, parent=self
                )
            return await super()._async_pre_start_kernel(**kw)

    return WarmKernelManager


def __getattr__(name: str):
    if name == "WarmKernelManager":
        return _manager_class()
    raise AttributeError(name)


if __name__ == "__main__":  # pragma: no cover - the template process
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p and Path(p).resolve() != Path(here)]  # no shadowing
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        sys.exit(serve(sys.argv[2]))
    sys.exit(f"usage: {sys.argv[0]} serve SOCKET")
