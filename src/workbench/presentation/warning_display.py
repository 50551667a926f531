"""Caveat warnings shown where the user called, not inside the library.

A caveat such as :class:`~workbench.exceptions.ProportionalHazardsWarning` is raised deep inside
the package (``survival/cox.py``); Python shows the file and line of the ``warnings.warn`` call
(or of the frame its ``stacklevel`` reaches), which means nothing to a notebook user. :func:`install`
wraps :func:`warnings.showwarning` so that a :class:`~workbench.exceptions.WorkbenchWarning` is
shown at the first frame outside the workbench package and outside Python's own libraries, i.e.
the notebook cell or script line that called the analysis ("Cell In[5], line 3" in Jupyter).
Other warnings pass unchanged. Installed when ``workbench`` is imported; idempotent.

For library authors: ``stacklevel`` is still worth setting, but nothing depends on it being right.
"""

from __future__ import annotations

import sys
import sysconfig
import threading
import warnings
from pathlib import Path

_PACKAGE = str(Path(__file__).resolve().parents[1])
_previous = None
_busy = threading.local()


def _library_dirs() -> tuple[str, ...]:
    dirs = {_PACKAGE}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            dirs.add(str(Path(path).resolve()))
    return tuple(sorted(dirs))


_LIBRARY = _library_dirs()


def _is_user(filename: str) -> bool:
    if filename.startswith("<frozen") or filename.startswith("<string"):
        return False
    try:
        path = str(Path(filename).resolve())
    except (OSError, ValueError):
        return True
    return not path.startswith(_LIBRARY)


def user_location(start=None) -> tuple[str, int] | None:
    """``(filename, lineno)`` of the innermost frame outside the package and Python's libraries,
    or ``None`` (e.g. the whole call came from inside libraries)."""
    frame = start or sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if _is_user(name):
            return name, frame.f_lineno
        frame = frame.f_back
    return None


def _cell_name(filename: str, lineno: int) -> str | None:
    """``"Cell In[5], line 3"`` for an IPython cell file, else ``None``."""
    try:
        from IPython import get_ipython

        ip = get_ipython()
        number = ip.compile._filename_map.get(filename) if ip is not None else None
    except Exception:
        return None
    return f"Cell In[{number}], line {lineno}" if number is not None else None


def _showwarning(message, category, filename, lineno, file=None, line=None):
    from ..exceptions import WorkbenchWarning

    show = _previous or warnings._showwarning_orig
    if getattr(_busy, "on", False):  # wrapped twice (another wrapper installed on top): no loop
        return warnings._showwarning_orig(message, category, filename, lineno, file, line)
    if (
        isinstance(category, type)
        and issubclass(category, WorkbenchWarning)
        and not _is_user(filename)
    ):
        where = user_location(sys._getframe(1))
        if where is not None:
            filename, lineno = where
            line = None
    _busy.on = True
    try:
        return show(message, category, filename, lineno, file, line)
    finally:
        _busy.on = False


def _formatwarning(message, category, filename, lineno, line=None):
    from ..exceptions import WorkbenchWarning

    if isinstance(category, type) and issubclass(category, WorkbenchWarning):
        cell = _cell_name(filename, lineno)
        if cell is not None:
            return f"{cell}: {category.__name__}: {message}\n"
    return _previous_format(message, category, filename, lineno, line)


_previous_format = warnings.formatwarning


def install() -> None:
    """Wrap :func:`warnings.showwarning` / :func:`warnings.formatwarning` (see module docstring)."""
    global _previous, _previous_format
    if warnings.showwarning is not _showwarning:
        _previous = warnings.showwarning
        warnings.showwarning = _showwarning
    if warnings.formatwarning is not _formatwarning:
        _previous_format = warnings.formatwarning
        warnings.formatwarning = _formatwarning
