"""Transaction logs: the spec, the checked loader, and the customer summary (RFM) they lead to.

A transaction log has one row per purchase with the roles customer id, timestamp, amount and
(optionally) quantity, and a :class:`TransactionSpec` that declares the time unit every model and
prediction is expressed in (``days``, ``weeks``, ``months`` of 365.25/12 days, ``years``).

Rules (each a clear error or a counted, named exclusion; never a silent drop):

* a column the spec names is missing -> :class:`DataValidationError` with the closest column;
* timestamps that are numbers (e.g. ``19970101``) without a declared ``timestamp_format``, or that
  do not parse -> error (reading ``19970101`` as nanoseconds since 1970 is the classic unit mix-up);
* an unknown ``time_unit`` -> :class:`SpecError` listing the valid units;
* zero or negative amounts -> error, or with ``nonpositive_amounts: exclude`` excluded and counted;
* exact duplicate rows -> error, or ``duplicates: keep`` (they stay separate transactions and are
  merged with the rest of that day) or ``duplicates: exclude`` (counted);
* a transaction dated after the analysis date (``observation_end``) -> error naming the customers;
* a customer whose first purchase falls after the calibration end -> excluded from the calibration
  cohort and counted (``first purchase after calibration``).

Same-day rule (``same_day: merge``, the default, as in the published CDNOW analyses): all
transactions of one customer on one calendar day form one purchase occasion; its amount and quantity
are the day's sums. ``same_day: keep`` keeps every transaction as an occasion.

The summary (:func:`rfm_summary`) is computed by one DuckDB query, so the same code serves a pandas
frame of a few thousand rows and a Parquet file of ten million.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import warnings
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError, ParameterError, RowsExcludedWarning, SpecError

__all__ = [
    "TIME_UNITS",
    "TransactionSpec",
    "TransactionLog",
    "load_transactions",
    "to_days",
]

#: days per time unit (a month is 365.25 / 12 days, the workbench's one month length)
TIME_UNITS = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12.0, "years": 365.25}
SAME_DAY_RULES = ("merge", "keep")
DUPLICATE_POLICIES = ("error", "keep", "exclude")
AMOUNT_POLICIES = ("error", "exclude", "keep_zero")
N_EXAMPLES = 5
CANONICAL = ("customer_id", "timestamp", "amount", "quantity")


def _one_of(name: str, value: Any, allowed) -> None:
    if value not in allowed:
        close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise SpecError(
            f"transaction spec `{name}` must be one of {list(allowed)}, got {value!r}.{hint}"
        )


@dataclass
class TransactionSpec:
    """Roles of a transaction log and the rules applied to it.

    Parameters
    ----------
    customer, timestamp : str
        Columns of the customer id and of the purchase time.
    amount, quantity : str, optional
        Columns of the money value and of the number of items of a transaction.
    time_unit : {'days', 'weeks', 'months', 'years'}
        The unit of recency, age ``T``, model rates and prediction horizons.
    timestamp_format : str, optional
        ``strftime`` format for timestamps stored as text or numbers (``'%Y%m%d'`` for 19970101).
    same_day : {'merge', 'keep'}
        ``merge``: one purchase occasion per customer and calendar day (amounts summed).
    duplicates : {'error', 'keep', 'exclude'}
        What to do with rows identical in every role column.
    nonpositive_amounts : {'error', 'exclude', 'keep_zero'}
        What to do with amounts <= 0 (refunds, free items): refuse, exclude and count, or keep zero
        amounts as purchase occasions (counted; negative amounts are still refused).
    personal : list of str
        Columns that must never appear in outputs (the customer id always is).
    """

    customer: str
    timestamp: str
    amount: str | None = None
    quantity: str | None = None
    time_unit: str = "weeks"
    timestamp_format: str | None = None
    same_day: str = "merge"
    duplicates: str = "error"
    nonpositive_amounts: str = "error"
    name: str = "transactions"
    personal: list = field(default_factory=list)
    description: str = ""

    def __post_init__(self) -> None:
        for role in ("customer", "timestamp"):
            if not isinstance(getattr(self, role), str) or not getattr(self, role):
                raise SpecError(
                    f"transaction spec role `{role}` must name a column, got {getattr(self, role)!r}. "
                    f"Add e.g. `{role}: my_column`."
                )
        _one_of("time_unit", self.time_unit, tuple(TIME_UNITS))
        _one_of("same_day", self.same_day, SAME_DAY_RULES)
        _one_of("duplicates", self.duplicates, DUPLICATE_POLICIES)
        _one_of("nonpositive_amounts", self.nonpositive_amounts, AMOUNT_POLICIES)

    @classmethod
    def from_dict(cls, d: dict) -> TransactionSpec:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            hints = [
                f"{u!r}"
                + (
                    f" (did you mean {c[0]!r}?)"
                    if (c := difflib.get_close_matches(u, known, 1))
                    else ""
                )
                for u in unknown
            ]
            raise SpecError(
                f"transaction spec has unknown key(s) {', '.join(hints)}; valid keys: {sorted(known)}."
            )
        return cls(**d)

    @classmethod
    def from_yaml(cls, path: str | Path) -> TransactionSpec:
        """Read a spec from YAML (a mapping; a top-level ``transactions:`` key is also accepted)."""
        import yaml

        d = yaml.safe_load(Path(path).read_text())
        if isinstance(d, dict) and isinstance(d.get("transactions"), dict):
            d = d["transactions"]
        if not isinstance(d, dict):
            raise SpecError(
                f"spec file {path} must hold a mapping of roles, got {type(d).__name__}."
            )
        return cls.from_dict(d)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, default=str)

    @property
    def days_per_unit(self) -> float:
        return TIME_UNITS[self.time_unit]


@dataclass(eq=False)
class TransactionLog:
    """A checked transaction log: canonical columns ``customer_id, timestamp, amount, quantity``.

    Attributes
    ----------
    frame : DataFrame
        One row per kept transaction (``timestamp`` is datetime64; ``amount`` / ``quantity`` float,
        NaN when the spec has no such column).
    spec : TransactionSpec
    exclusions : list of dict
        ``rule``, ``n_rows``, ``detail`` for every counted exclusion.
    """

    frame: pd.DataFrame
    spec: TransactionSpec
    name: str = "transactions"
    source: str = ""
    exclusions: list = field(default_factory=list)
    n_received: int = 0
    truth: dict | None = None

    @cached_property
    def fingerprint(self) -> str:
        h = hashlib.sha256()
        h.update(pd.util.hash_pandas_object(self.frame, index=False).to_numpy().tobytes())
        h.update(self.spec.to_json().encode())
        return h.hexdigest()[:16]

    @property
    def n(self) -> int:
        return len(self.frame)

    @property
    def n_customers(self) -> int:
        return int(self.frame["customer_id"].nunique())

    @property
    def time_unit(self) -> str:
        return self.spec.time_unit

    def describe(self) -> pd.DataFrame:
        f = self.frame
        rows = [
            ("dataset", self.name),
            ("transactions", f"{self.n:,}"),
            ("rows received", f"{self.n_received or self.n:,}"),
            ("rows excluded", f"{sum(e['n_rows'] for e in self.exclusions):,}"),
            ("customers", f"{self.n_customers:,}"),
            (
                "first / last transaction",
                f"{f['timestamp'].min():%Y-%m-%d} / {f['timestamp'].max():%Y-%m-%d}",
            ),
            ("time unit", f"{self.spec.time_unit} ({self.spec.days_per_unit:g} days)"),
            ("same-day rule", self.spec.same_day),
            ("fingerprint", self.fingerprint),
        ]
        return pd.DataFrame(rows, columns=["item", "value"])


def to_days(value: float, unit: str) -> float:
    """Length ``value`` in ``unit`` expressed in days (``unit`` one of :data:`TIME_UNITS`)."""
    if unit not in TIME_UNITS:
        _one_of("time_unit", unit, tuple(TIME_UNITS))
    return float(value) * TIME_UNITS[unit]


# ------------------------------------------------------------------------------------ checks
def _fail(df, mask, *, column, rule, problem, fix, id_col="customer_id") -> None:
    mask = np.asarray(mask)
    n = int(mask.sum())
    idx = np.flatnonzero(mask)[:N_EXAMPLES]
    ex = df[id_col].iloc[idx].tolist() if id_col in df.columns else idx.tolist()
    raise DataValidationError(
        f"column '{column}' fails rule '{rule}': {n:,} row(s) {problem} (first customer ids: {ex}). {fix}",
        column=column,
        rule=rule,
        n_rows=n,
        examples=ex,
    )


def _exclude(log_excl: list, rule: str, n: int, detail: str) -> None:
    log_excl.append({"rule": rule, "n_rows": int(n), "detail": detail})
    warnings.warn(f"{n:,} transaction(s) excluded: {detail}", RowsExcludedWarning, stacklevel=3)


def _parse_timestamps(s: pd.Series, spec: TransactionSpec, df: pd.DataFrame) -> pd.Series:
    col = spec.timestamp
    if spec.timestamp_format:
        out = pd.to_datetime(s.astype(str), format=spec.timestamp_format, errors="coerce")
        fix = (
            f"the spec declares timestamp_format={spec.timestamp_format!r}; correct it or the data."
        )
    else:
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            raise DataValidationError(
                f"column '{col}' holds numbers (e.g. {s.iloc[0]!r}), not dates: read as a time unit they "
                "would be nanoseconds since 1970. Declare the format in the spec, e.g. "
                "`timestamp_format: '%Y%m%d'` for 19970101, or convert the column to dates.",
                column=col,
                rule="timestamp is a date",
            )
        out = pd.to_datetime(s, errors="coerce")
        fix = "give ISO dates (1997-01-31) or declare `timestamp_format` in the spec."
    bad = out.isna().to_numpy()
    if bad.any():
        _fail(
            df,
            bad,
            column=col,
            rule="timestamp parses",
            problem=f"do not parse as dates (e.g. {s[bad].iloc[0]!r})",
            fix=fix,
        )
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert(None)
    return out


def _row_key(df: pd.DataFrame) -> np.ndarray:
    """A 64-bit key per row, equal for rows equal in every column (numbers by value: -0.0 as 0.0, every
    NaN alike; other columns by their factorized codes)."""
    key = np.zeros(len(df), dtype=np.uint64)
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            a = s.to_numpy().astype("datetime64[ns]").view(np.uint64)
        elif pd.api.types.is_float_dtype(s):
            v = s.to_numpy(dtype=np.float64) + 0.0
            a = np.where(np.isnan(v), np.nan, v).view(np.uint64)
        elif pd.api.types.is_integer_dtype(s) or pd.api.types.is_bool_dtype(s):
            a = s.to_numpy().astype(np.int64).view(np.uint64)
        else:
            a = pd.factorize(s, use_na_sentinel=False)[0].astype(np.int64).view(np.uint64)
        key = (key ^ a) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(0x632BE59BD9B4E019)
    return key


def _duplicated(df: pd.DataFrame) -> np.ndarray:
    """Rows repeating an earlier row in every role column (pandas ``duplicated`` semantics).

    Equal rows get equal 64-bit keys, so every duplicate lies among the rows whose key occurs more
    than once; the exact comparison runs on those candidates only (fast on 10M rows)."""
    k = _row_key(df)
    order = np.argsort(k, kind="stable")
    ks = k[order]
    same = ks[1:] == ks[:-1]
    out = np.zeros(len(df), dtype=bool)
    if not same.any():
        return out
    flag = np.zeros(len(df), dtype=bool)
    flag[1:] |= same
    flag[:-1] |= same
    cand = np.sort(order[flag])
    out[cand] = df.iloc[cand].duplicated(keep="first").to_numpy()
    return out


def load_transactions(
    source: pd.DataFrame | str | Path,
    spec: TransactionSpec | str | Path,
    *,
    query: str | None = None,
    name: str | None = None,
) -> TransactionLog:
    """Read and check a transaction log (DataFrame, CSV, Parquet, or a DuckDB query).

    Parameters
    ----------
    source : DataFrame or path
        The log itself, a ``.csv`` / ``.parquet`` file, or (with ``query``) a DuckDB database file or
        ``":memory:"``.
    spec : TransactionSpec or path to its YAML
    query : str, optional
        A DuckDB SQL query whose result is the log (e.g. ``SELECT * FROM 'big/*.parquet'``).
    name : str, optional

    Returns
    -------
    TransactionLog

    Raises
    ------
    DataValidationError
        Missing columns, undated or unparseable timestamps, missing ids, non-numeric or (by policy)
        non-positive amounts, duplicated rows (by policy).

    Examples
    --------
    >>> df = pd.DataFrame({"id": [1, 1, 2], "day": ["2024-01-02", "2024-02-01", "2024-01-05"],
    ...                    "value": [10.0, 12.5, 7.0]})
    >>> log = load_transactions(df, TransactionSpec(customer="id", timestamp="day", amount="value"))
    >>> log.n, log.n_customers
    (3, 2)
    """
    if not isinstance(spec, TransactionSpec):
        spec = TransactionSpec.from_yaml(spec)
    src = "DataFrame"
    if query is not None:
        import duckdb

        db = ":memory:" if source in (None, ":memory:") else str(source)
        con = duckdb.connect(db, read_only=db != ":memory:")
        try:
            raw = con.execute(query).df()
        except duckdb.Error as e:
            raise ParameterError(f"the DuckDB query failed: {e}. Query was: {query[:300]!r}") from e
        finally:
            con.close()
        src = f"duckdb:{db}: {query[:120]}"
    elif isinstance(source, pd.DataFrame):
        raw = source
    else:
        from ..data.io import read_table

        raw = read_table(source, param="source")
        src = str(source)
    return _check(raw, spec, name=name or spec.name, source=src)


def _check(raw: pd.DataFrame, spec: TransactionSpec, *, name: str, source: str) -> TransactionLog:
    roles = {
        "customer": spec.customer,
        "timestamp": spec.timestamp,
        "amount": spec.amount,
        "quantity": spec.quantity,
    }
    missing = [(r, c) for r, c in roles.items() if c is not None and c not in raw.columns]
    if missing:
        hints = []
        for r, c in missing:
            close = difflib.get_close_matches(str(c), [str(x) for x in raw.columns], n=1)
            hints.append(f"{r} -> '{c}'" + (f" (closest column: '{close[0]}')" if close else ""))
        raise DataValidationError(
            f"rule 'role columns present': the spec names {', '.join(hints)}, which the log does not have. "
            f"Columns received: {list(raw.columns)[:30]}. Fix the spec or rename the columns.",
            column=missing[0][1],
            rule="role columns present",
        )
    n_received = len(raw)
    exclusions: list = []
    df = pd.DataFrame({"customer_id": raw[spec.customer].to_numpy()})
    ids = df["customer_id"]
    if ids.isna().any():
        _fail(
            df.assign(customer_id=np.arange(len(df))),
            ids.isna(),
            column=spec.customer,
            rule="id present",
            problem="have no customer id",
            fix="drop or repair these rows before loading.",
        )
    df["timestamp"] = _parse_timestamps(
        raw[spec.timestamp].reset_index(drop=True), spec, df
    ).to_numpy()
    for role in ("amount", "quantity"):
        col = roles[role]
        if col is None:
            df[role] = np.nan
            continue
        vals = pd.to_numeric(raw[col].reset_index(drop=True), errors="coerce")
        bad = vals.isna().to_numpy() | ~np.isfinite(vals.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            _fail(
                df,
                bad,
                column=col,
                rule="numeric",
                problem=f"are missing or not numbers (e.g. {raw[col].iloc[np.flatnonzero(bad)[0]]!r})",
                fix="repair or remove them; a transaction needs its value.",
            )
        df[role] = vals.to_numpy(dtype=float)
    if spec.amount is not None:
        nonpos = (df["amount"] <= 0).to_numpy()
        if spec.nonpositive_amounts == "keep_zero":
            zero = (df["amount"] == 0).to_numpy()
            if zero.any():
                exclusions.append(
                    {
                        "rule": "zero amount (kept)",
                        "n_rows": 0,
                        "detail": f"{int(zero.sum()):,} transactions of amount 0 kept as purchase occasions",
                    }
                )
            nonpos = (df["amount"] < 0).to_numpy()
        if nonpos.any():
            if spec.nonpositive_amounts != "exclude":
                _fail(
                    df,
                    nonpos,
                    column=spec.amount,
                    rule="amount > 0",
                    problem=f"have zero or negative amounts (min {df['amount'].min():g})",
                    fix="returns and free items are not purchases: remove them, or set "
                    "`nonpositive_amounts: exclude` in the spec to exclude and count them.",
                )
            df = df.loc[~nonpos].reset_index(drop=True)
            _exclude(
                exclusions,
                "amount > 0",
                nonpos.sum(),
                f"amount <= 0 in '{spec.amount}' (returns / free items)",
            )
    dup = _duplicated(df)
    if dup.any():
        if spec.duplicates == "error":
            _fail(
                df,
                dup,
                column=spec.customer,
                rule="no duplicated transactions",
                problem="repeat an earlier row in every role column",
                fix="if they are genuine repeat purchases set `duplicates: keep` (same-day merge then sums "
                "them); if they are double-loaded rows set `duplicates: exclude`.",
            )
        if spec.duplicates == "exclude":
            df = df.loc[~dup].reset_index(drop=True)
            _exclude(
                exclusions,
                "duplicated transaction",
                dup.sum(),
                "rows identical to an earlier row in every role column",
            )
        else:
            exclusions.append(
                {
                    "rule": "duplicated transaction (kept)",
                    "n_rows": 0,
                    "detail": f"{int(dup.sum()):,} rows identical to an earlier row kept as purchases (duplicates: keep)",
                }
            )
    return TransactionLog(
        df, spec, name=name, source=source, exclusions=exclusions, n_received=n_received
    )
