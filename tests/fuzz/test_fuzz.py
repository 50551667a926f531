"""The fuzz suite: every bad input gets its exact error (or warning) class, a message that names
the column / argument / key / file, and a fix. Cases live in :mod:`tests.fuzz.cases`."""

from __future__ import annotations

import pytest

from tests.fuzz.cases import CASES, FIX_WORDS, run_case

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_at_least_120_cases_with_unique_ids():
    ids = [c[0] for c in CASES]
    assert len(ids) >= 120 and len(set(ids)) == len(ids)


@pytest.mark.parametrize("cid,build,expected,names", CASES, ids=[c[0] for c in CASES])
def test_case(cid, build, expected, names, tmp_path):
    err, caught = run_case(build, tmp_path)
    if issubclass(expected, Warning):
        assert err is None, f"{cid}: raised {type(err).__name__}: {err}"
        hits = [w for w in caught if type(w.message) is expected]
        assert hits, f"{cid}: no {expected.__name__}; warnings: {[str(w.message) for w in caught]}"
        msg = str(hits[0].message)
    else:
        assert err is not None, f"{cid}: no error (silent)"
        assert type(err) is expected, f"{cid}: {type(err).__name__}: {err}"
        msg = str(err)
    for name in names:
        assert name in msg, f"{cid}: message does not name {name!r}: {msg}"
    low = msg.lower()
    assert any(w in low for w in FIX_WORDS), f"{cid}: message suggests no fix: {msg}"
