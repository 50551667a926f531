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
