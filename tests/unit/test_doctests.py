"""Every docstring example in the package runs (numpydoc ``Examples`` sections cannot drift).

One test per module of ``workbench`` (found by walking the package), running its doctests with
``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``. Examples run in the module's namespace, the way
``python -m doctest`` and ``pytest --doctest-modules`` run them. Modules whose examples fail today
are listed in :data:`KNOWN_FAILURES` as dated strict xfails (their owners fix them; a fixed one
turns the xfail into a failure and its entry must go).
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import warnings

import pytest

import workbench

#: modules not imported here: they run a program when imported
NOT_IMPORTED = {"workbench.runner._child", "workbench.__main__"}

KNOWN_FAILURES: dict[str, str] = {}


def _modules() -> list[str]:
    names = ["workbench"]
    for info in pkgutil.walk_packages(workbench.__path__, "workbench."):
        if info.name not in NOT_IMPORTED:
            names.append(info.name)
    return sorted(names)


def _param(name):
    if name in KNOWN_FAILURES:
        return pytest.param(
            name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[name]), id=name
        )
    return pytest.param(name, id=name)


@pytest.mark.parametrize("module", [_param(m) for m in _modules()])
def test_docstring_examples(module, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    monkeypatch.delenv("WORKBENCH_RUN_DIR", raising=False)
    mod = importlib.import_module(module)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    failures = []
    for test in finder.find(mod, module):
        if test.examples and test.name.split(".")[0] == "workbench":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = runner.run(test, out=failures.append, clear_globs=True)
            del result
    assert runner.failures == 0, "".join(failures)[:4000]
