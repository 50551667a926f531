"""Pseudonymised customer ids for anything customer-level a report shows.

Reports never show real customer identifiers. When a notebook displays a sample of customers it
calls :func:`customer_sample` (or :func:`pseudonymise_ids` on a frame it built), which replaces the
id column with keyed pseudonyms ``C-<10 hex digits>``: HMAC-SHA256 of the id under a secret key.
Without the key, a pseudonym cannot be traced back by hashing candidate ids (plain hashes of
enumerable ids such as ``7590-VHVEG`` could). The key comes from ``key=``, else the environment
variable ``WORKBENCH_PSEUDONYM_KEY`` (set it to keep pseudonyms stable across runs), else a random
key drawn once per process (stable within one report).

References
----------
Krawczyk, H., Bellare, M. and Canetti, R. (1997). HMAC: Keyed-Hashing for Message Authentication.
RFC 2104.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from .exceptions import ParameterError

KEY_ENV = "WORKBENCH_PSEUDONYM_KEY"
_PROCESS_KEY = secrets.token_bytes(32)


def _key(key: str | bytes | None) -> bytes:
    if key is None:
        env = os.environ.get(KEY_ENV)
        return env.encode() if env else _PROCESS_KEY
    return key.encode() if isinstance(key, str) else bytes(key)


def pseudonym(
    value: Any, *, key: str | bytes | None = None, prefix: str = "C-", digits: int = 10
) -> str:
    """Keyed pseudonym of one id (``C-`` + the first ``digits`` hex digits of its HMAC).

    Examples
    --------
    >>> pseudonym("7590-VHVEG", key="k")
    'C-8dfa713eef'
    """
    mac = hmac.new(_key(key), str(value).encode("utf-8"), hashlib.sha256).hexdigest()
    return prefix + mac[:digits]


def pseudonymise(
    values: Iterable[Any], *, key: str | bytes | None = None, prefix: str = "C-"
) -> list[str]:
    """Pseudonyms of ``values`` (same id -> same pseudonym under one key)."""
    k = _key(key)
    return [pseudonym(v, key=k, prefix=prefix) for v in values]


def pseudonymise_ids(
    frame: pd.DataFrame, id_col: str, *, key: str | bytes | None = None, prefix: str = "C-"
) -> pd.DataFrame:
    """A copy of ``frame`` whose ``id_col`` holds pseudonyms instead of the real ids.

    Raises
    ------
    ParameterError
        ``id_col`` is not a column of ``frame``.
    """
    if id_col not in frame.columns:
        raise ParameterError(
            f"id_col={id_col!r} is not a column of the frame (columns: {', '.join(map(str, frame.columns))}). "
            "Pass the customer id column, e.g. id_col='customer_id'."
        )
    out = frame.copy()
    out[id_col] = pseudonymise(out[id_col].tolist(), key=key, prefix=prefix)
    return out


def customer_sample(
    data: Any,
    n: int = 5,
    *,
    id_col: str | None = None,
    columns: Sequence[str] | None = None,
    seed: int = 0,
    key: str | bytes | None = None,
) -> pd.DataFrame:
    """A random sample of ``n`` customers with pseudonymised ids, safe to show in a report.

    Parameters
    ----------
    data : Dataset or DataFrame
        With a Dataset, ``id_col`` defaults to the spec's id column.
    n : int
        Number of customers (all of them when fewer).
    id_col : str, optional
        Customer id column (required for a DataFrame).
    columns : sequence of str, optional
        Columns to show besides the id (default: all).
    seed : int
        Seed of the sample.
    key : str or bytes, optional
        Pseudonym key (see module docstring).

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> ds = load_dataset("synthetic", n_customers=500)
    >>> sample = customer_sample(ds, 3, columns=["tenure"], key="k")
    >>> list(sample.columns), bool(sample["customer_id"].str.startswith("C-").all())
    (['customer_id', 'tenure'], True)
    """
    frame = getattr(data, "frame", data)
    spec = getattr(data, "spec", None)
    if id_col is None:
        id_col = getattr(spec, "id", None)
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"data must be a Dataset or a DataFrame, got {type(data).__name__}.")
    if id_col is None:
        raise ParameterError(
            "customer_sample: pass id_col= (the customer id column) with a DataFrame."
        )
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ParameterError(f"customer_sample: n must be a positive integer, got {n!r}.")
    cols = [id_col] + [
        c for c in (columns if columns is not None else frame.columns) if c != id_col
    ]
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"customer_sample: unknown columns {missing}; available: {list(frame.columns)}."
        )
    sample = frame.sample(n=min(n, len(frame)), random_state=seed)[cols].reset_index(drop=True)
    return pseudonymise_ids(sample, id_col, key=key)


# ---------------------------------------------------------------- personal columns (spec `personal:`)
_TOKEN = re.compile(r"[\w.@+'-]+", re.UNICODE)
MASK = "[personal]"


def personal_columns(data: Any) -> list[str]:
    """The id and the columns a Dataset's spec declares ``personal`` (empty for a bare frame)."""
    spec = getattr(data, "spec", None)
    if spec is None:
        return []
    return list(dict.fromkeys([spec.id, *(getattr(spec, "personal", None) or [])]))


def check_not_personal(data: Any, columns: Any, *, argument: str = "group_col") -> None:
    """Refuse an analysis argument that names the id or a personal column (it would print them).

    Analyses call this for grouping, strata and segment arguments before any work.

    Raises
    ------
    ParameterError
        Naming the argument and the column (the column's name is not personal; its values are).

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> ds = load_dataset("synthetic", n_customers=500)
    >>> check_not_personal(ds, "segment")
    >>> check_not_personal(ds, "customer_id", argument="group_by")
    Traceback (most recent call last):
    ...
    workbench.exceptions.ParameterError: `group_by` = 'customer_id' is the customer id: ...
    """
    cols = [columns] if isinstance(columns, str) else list(columns or [])
    spec = getattr(data, "spec", None)
    for c in cols:
        if spec is not None and c == spec.id:
            what = "the customer id"
        elif c in personal_columns(data):
            what = "declared personal in the spec (`personal:`)"
        else:
            continue
        raise ParameterError(
            f"`{argument}` = {c!r} is {what}: grouping by it would print one group per person, "
            "and personal values never appear in reports. Group by a segment or a binned column "
            "instead."
        )


def personal_values(data: Any, *, min_len: int = 2) -> set[str]:
    """The text forms of every id and personal value of ``data``, for :func:`scrub_text`.

    Short or purely numeric ids (``1``, ``42``) are left out: masking them would mask ordinary
    numbers; ids of at least six digits, and any id or personal value with letters, are kept.
    """
    frame = getattr(data, "frame", None)
    out: set[str] = set()
    if frame is None:
        return out
    spec = data.spec
    for col in personal_columns(data):
        if col not in frame.columns:
            continue
        for v in pd.unique(frame[col].dropna()):
            s = str(v).strip()
            if len(s) < min_len:
                continue
            if s.replace(".", "").isdigit() and (col != spec.id or len(s) < 6):
                continue
            out.add(s)
            out.update(t for t in _TOKEN.findall(s) if len(t) >= 3 and not t.isdigit())
    return out


def scrub_text(text: str, values: set[str], *, mask: str = MASK) -> tuple[str, int]:
    """Replace every token of ``text`` that is an id or personal value by ``mask``; count them."""
    if not values or not text:
        return text, 0
    n = 0

    def sub(m: re.Match) -> str:
        nonlocal n
        tok = m.group(0)
        core = tok.strip(".-'")
        if tok in values or core in values:
            n += 1
            return tok.replace(core, mask) if core in values and tok not in values else mask
        return tok

    return _TOKEN.sub(sub, text), n


_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+")


def scrub_markup(text: str, values: set[str], *, mask: str = MASK) -> tuple[str, int]:
    """:func:`scrub_text` on HTML or JSON text, leaving embedded images (data URIs) untouched."""
    if not values or not text:
        return text, 0
    parts, total, last = [], 0, 0
    for m in _DATA_URI.finditer(text):
        clean, n = scrub_text(text[last : m.start()], values, mask=mask)
        parts += [clean, m.group(0)]
        total += n
        last = m.end()
    clean, n = scrub_text(text[last:], values, mask=mask)
    parts.append(clean)
    return "".join(parts), total + n


def scrub_notebook(nb: Any, values: set[str], *, mask: str = MASK) -> int:
    """Scrub ids and personal values from a notebook's text outputs in place (images untouched)."""
    total = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "text" in out:
                out["text"], n = scrub_text("".join(out["text"]), values, mask=mask)
                total += n
            if "evalue" in out:
                out["evalue"], n = scrub_text(str(out["evalue"]), values, mask=mask)
                out["traceback"] = [
                    scrub_text(t, values, mask=mask)[0] for t in out.get("traceback", [])
                ]
                total += n
            for mime, payload in list(out.get("data", {}).items()):
                if mime.startswith("text/") or mime in ("application/json", "image/svg+xml"):
                    raw = (
                        payload
                        if isinstance(payload, str)
                        else ("".join(payload) if isinstance(payload, list) else None)
                    )
                    if raw is None:
                        continue
                    out["data"][mime], n = scrub_markup(raw, values, mask=mask)
                    total += n
    return total
