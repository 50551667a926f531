"""Caveat warnings point at the user's call, not at the library line that raised them."""

from __future__ import annotations

import warnings

import workbench  # noqa: F401  (installs the display)
import workbench.survival.cox as cox_module
from workbench.exceptions import ProportionalHazardsWarning
from workbench.presentation import warning_display


def _library_function(category, monkeypatch):
    """A function whose code object lives in the package's cox.py (as a real caveat would); it
    shows a warning and returns what the next display in the chain received."""
    seen = []
    monkeypatch.setattr(
        warning_display,
        "_previous",
        lambda m, c, f, n, file=None, line=None: seen.append(
            warnings.formatwarning(m, c, f, n, line)
        ),
    )
    ns = {"warning_display": warning_display, "category": category, "seen": seen}
    src = (
        "def raise_it():\n"
        "    warning_display._showwarning('PH rejected', category, __file__, 61)\n"
        "    return seen[-1]\n"
    )
    ns["__file__"] = cox_module.__file__
    exec(compile(src, cox_module.__file__, "exec"), ns)
    return ns["raise_it"]


def test_workbench_caveat_is_shown_at_the_users_line(monkeypatch):
    text = _library_function(
        ProportionalHazardsWarning, monkeypatch
    )()  # this line is the user's call
    assert text.startswith(f"{__file__}:") and "cox.py" not in text
    assert "ProportionalHazardsWarning: PH rejected" in text


def test_other_warnings_keep_their_location(monkeypatch):
    text = _library_function(UserWarning, monkeypatch)()
    assert "cox.py:61" in text


def test_installed_on_import_and_idempotent():
    warning_display.install()
    warning_display.install()
    assert warnings.showwarning is warning_display._showwarning
    assert warnings.formatwarning is warning_display._formatwarning
