"""Gray's K-sample test of equal cumulative incidence of one churn cause across groups, as R
``cmprsk::cuminc``'s ``$Tests`` (the Fortran routines ``crstm`` / ``crst``, followed exactly).
The cumulative incidence itself is :func:`workbench.survival.cumulative_incidence`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, stats

from ..checks import check_alpha as _check_alpha
from ..columns import fingerprint_of
from ..exceptions import ModelError, ParameterError, SmallSampleWarning
from ..results import Result
from ._design import _warn
from .competing import MIN_GROUP_SIZE, _competing_input, _groups

__all__ = ["GrayTestResult", "gray_test"]


def _crst(y: np.ndarray, m: np.ndarray, ig: np.ndarray, ng: int, rho: float):
    """Score and variance of Gray's test in one stratum (``m``: 0 censored, 1 cause, 2 other)."""
    ut, inv = np.unique(y, return_inverse=True)
    T = len(ut)
    d = np.zeros((3, T, ng))
    np.add.at(d, (m, inv, ig), 1.0)
    n_g = np.bincount(ig, minlength=ng).astype(float)
    leave = d.sum(axis=0)  # T x ng
    rs_all = n_g - np.vstack([np.zeros(ng), np.cumsum(leave, axis=0)[:-1]])
    d1, d2 = d[1], d[2]
    nd1, nd2 = d1.sum(axis=1), d2.sum(axis=1)
    ev = (nd1 + nd2) > 0
    rs, d1, d2, nd1, nd2 = rs_all[ev], d1[ev], d2[ev], nd1[ev], nd2[ev]
    td = d1 + d2
    pos = rs > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(pos, (rs - td) / np.where(pos, rs, 1.0), 1.0)
        skm = np.cumprod(factor, axis=0)
        skmm = np.vstack([np.ones(ng), skm[:-1]])
        inc = np.where(pos, skmm * d1 / np.where(pos, rs, 1.0), 0.0)
        f1 = np.cumsum(inc, axis=0)
        f1m = np.vstack([np.zeros(ng), f1[:-1]])
        t1 = np.where(pos, rs / skmm, 0.0)
        tr = t1.sum(axis=1)
        tq = np.where(pos, rs * (1 - f1m) / skmm, 0.0).sum(axis=1)
        f = np.cumsum(nd1 / tr)
        fm = np.r_[0.0, f[:-1]]
        fb = (1 - fm) ** rho
        A = fb[:, None, None] * (
            np.einsum("ti,ij->tij", t1, np.eye(ng))
            - t1[:, :, None] * t1[:, None, :] / tr[:, None, None]
        )
        C = np.cumsum(A * (nd1 / (tr * (1 - fm)))[:, None, None], axis=0)
        s = (
            fb[:, None]
            * np.where(pos, d1 - nd1[:, None] * rs * (1 - f1m) / (skmm * tq[:, None]), 0.0)
        ).sum(axis=0)
        # this cause's events
        t4 = np.where(skm > 0, 1 - (1 - f)[:, None] / skm, 1.0)
        t5 = np.where(nd1[:, None] > 1, 1 - (nd1[:, None] - 1) / (tr[:, None] * skmm - 1), 1.0)
        t3 = np.where(pos & (nd1[:, None] > 0), t5 * skmm * nd1[:, None] / (tr[:, None] * rs), 0.0)
        M1 = A - t4[:, None, :] * C
        v3 = (t4 * t4 * t3).sum(axis=0)
        v2 = np.einsum("tik,tk->ik", M1, t4 * t3)
        v = np.einsum("tik,tjk,tk->ij", M1, M1, t3)
        # other causes' events
        ok = (skm > 0) & (d2 > 0)
        u4 = np.where(ok, (1 - f)[:, None] / np.where(skm > 0, skm, 1.0), 0.0)
        u5 = np.where(d2 > 1, 1 - (d2 - 1) / (rs - 1), 1.0)
        u3 = np.where(ok, u5 * skmm**2 * d2 / np.where(pos, rs, 1.0) ** 2, 0.0)
        M2 = u4[:, None, :] * C
        v3 = v3 + (u4 * u4 * u3).sum(axis=0)
        v2 = v2 - np.einsum("tik,tk->ik", M2, u4 * u3)
        v = v + np.einsum("tik,tjk,tk->ij", M2, M2, u3)
    Cf = C[-1] if len(C) else np.zeros((ng, ng))
    v = v + np.einsum("ik,jk,k->ij", Cf, Cf, v3) + Cf @ v2.T + v2 @ Cf.T
    return s[: ng - 1], v[: ng - 1, : ng - 1]


class GrayTestResult(Result):
    """Gray's K-sample test of equal cumulative incidence: one row per cause."""

    title = "Gray's test: equal cumulative incidence across groups"


def gray_test(
    data: Any,
    *,
    duration_col: str | None = None,
    event_col: str | None = None,
    cause_col: str | None = None,
    group_col: str,
    strata: str | None = None,
    rho: float = 0.0,
    alpha: float = 0.05,
) -> GrayTestResult:
    """Gray's test that the cumulative incidence of each cause is the same in every group.

    Parameters
    ----------
    data : Dataset or DataFrame
    duration_col, event_col, cause_col : str, optional
        As in :func:`cumulative_incidence`.
    group_col : str
        The groups to compare (at least two with customers).
    strata : str, optional
        Stratification column (the test sums the within-stratum scores and variances).
    rho : float
        Power of the weight ``(1 - F(t-))^rho`` (0: R's default).
    alpha : float
        Recorded in ``meta``; the p-values do not depend on it.

    Returns
    -------
    GrayTestResult
        ``summary``: cause, statistic, df, p_value (R ``cuminc(...)$Tests``).

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> ds = load_dataset("synthetic", n_customers=2_000, seed=1)
    >>> list(gray_test(ds, group_col="contract").summary.columns)
    ['cause', 'statistic', 'df', 'p_value']

    References
    ----------
    Gray, R. J. (1988). A class of K-sample tests for comparing the cumulative incidence of a
    competing risk. Annals of Statistics 16(3), 1141-1154.
    """
    alpha = _check_alpha(alpha)
    messages: list[str] = []
    exclusions: list[dict] = []
    if group_col is None:
        raise ParameterError(
            "`group_col` is required: Gray's test compares groups, e.g. group_col='contract'."
        )
    frame, time, code, info = _competing_input(
        data,
        func="gray_test",
        duration_col=duration_col,
        event_col=event_col,
        cause_col=cause_col,
        extra_cols=[group_col, strata],
        messages=messages,
        exclusions=exclusions,
    )
    labels = info["labels"]
    if not labels:
        raise ModelError("no churn events: every customer is censored; Gray's test needs churners.")
    groups = _groups(frame, group_col)
    if len(groups) < 2:
        raise ParameterError(
            f"`group_col` {group_col!r} has {len(groups)} group(s); Gray's test needs at least 2."
        )
    ig = np.zeros(len(frame), dtype=int)
    for j, (g, mask) in enumerate(groups):
        ig[mask] = j
        if mask.sum() < MIN_GROUP_SIZE:
            _warn(
                messages,
                f"Group {g!r} has only {int(mask.sum())} customer(s); Gray's test leans on large-sample "
                "theory and is unreliable with such a group. Merge it with a similar group.",
                SmallSampleWarning,
            )
    ng = len(groups)
    st = np.zeros(len(frame), dtype=int) if strata is None else pd.factorize(frame[strata])[0]
    rows = []
    for k, lab in labels.items():
        m = np.where(code == k, 1, np.where(code > 0, 2, 0))
        s = np.zeros(ng - 1)
        v = np.zeros((ng - 1, ng - 1))
        for sv in np.unique(st):
            sel = st == sv
            ss, vv = _crst(time[sel], m[sel], ig[sel], ng, rho)
            s += ss
            v += vv
        if np.linalg.matrix_rank(v) == ng - 1:
            stat = float(s @ linalg.solve(v, s, assume_a="sym"))
        else:
            stat = float("nan")
            _warn(
                messages,
                f"Gray's test for cause {lab!r} is undefined: its variance matrix is singular "
                "(a group without this cause's events?).",
                SmallSampleWarning,
            )
        rows.append((lab, stat, ng - 1))
    table = pd.DataFrame(rows, columns=["cause", "statistic", "df"])
    table["p_value"] = stats.chi2.sf(table["statistic"], table["df"])
    meta = {
        "n": int(len(frame)),
        "events": int((code > 0).sum()),
        "alpha": alpha,
        "rho": rho,
        "method": "Gray's test (R cmprsk::cuminc $Tests)",
        "group_col": group_col,
        "groups": [g for g, _ in groups],
        "strata": strata,
        "exclusions": exclusions,
        "reference_levels": {},  # groups are compared as they are
        "fingerprint": fingerprint_of(data, frame, [*info["columns"].values(), group_col, strata]),
        **info["columns"],
    }
    return GrayTestResult(table, meta, warnings=messages)
