"""Seeded, parallel, vectorised nonparametric bootstrap with percentile and BCa intervals.

A replicate is a vector of resampling frequencies (how often each customer was drawn), so a
statistic is a function ``freq -> array`` and never copies the data; replicate ``b`` uses its own
``SeedSequence(seed).spawn`` child, so results do not depend on how replicates are split over
processes. Replicates run in a ``ProcessPoolExecutor`` when ``n_jobs > 1``.

References
----------
Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall (ch. 13-14:
percentile and BCa intervals).
Efron, B. (1987). Better bootstrap confidence intervals. JASA 82, 171-185.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy import stats

from ..exceptions import ParameterError


def default_jobs() -> int:
    """Worker processes to use by default: the CPUs this process may run on (at most 8)."""
    try:
        return max(1, min(8, len(os.sched_getaffinity(0))))
    except AttributeError:  # pragma: no cover
        return max(1, min(8, os.cpu_count() or 1))


def _run_chunk(statistic: Callable, n: int, seeds: list) -> np.ndarray:
    try:  # one BLAS thread per worker: the processes are the parallelism
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(1)
    except ImportError:  # pragma: no cover
        limiter = None
    try:
        return _replicates(statistic, n, seeds)
    finally:
        if limiter is not None:
            limiter.restore_original_limits()


def _replicates(statistic: Callable, n: int, seeds: list) -> np.ndarray:
    out = []
    for s in seeds:
        rng = np.random.default_rng(s)
        freq = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        out.append(np.asarray(statistic(freq), dtype=float))
    return np.array(out)


def bootstrap_replicates(
    statistic: Callable, n: int, *, n_bootstrap: int, seed: int = 0, n_jobs: int | None = None
) -> np.ndarray:
    """Replicates of ``statistic(freq)`` (n_bootstrap x k), seeded and split over processes.

    Parameters
    ----------
    statistic : callable
        ``freq -> array`` where ``freq`` holds each customer's resampling count. Must be picklable
        (a module-level function or an object) when ``n_jobs > 1``.
    n : int
        Number of customers.
    n_bootstrap : int
    seed : int
    n_jobs : int, optional
        Worker processes (default: the available CPUs; 1 runs in this process).
    """
    if (
        not isinstance(n_bootstrap, (int, np.integer))
        or isinstance(n_bootstrap, bool)
        or n_bootstrap < 1
    ):
        raise ParameterError(f"`n_bootstrap` must be a positive whole number, got {n_bootstrap!r}.")
    seeds = np.random.SeedSequence(seed).spawn(int(n_bootstrap))
    jobs = default_jobs() if n_jobs is None else max(1, int(n_jobs))
    jobs = min(jobs, int(n_bootstrap))
    if jobs == 1:
        return _run_chunk(statistic, n, seeds)
    chunks = [list(c) for c in np.array_split(np.array(seeds, dtype=object), jobs)]
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        parts = list(ex.map(_run_chunk, [statistic] * jobs, [n] * jobs, chunks))
    return np.vstack(parts)


def percentile_interval(reps: np.ndarray, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of each column of ``reps`` (quantile type 7, as R's default)."""
    lo, hi = np.nanquantile(reps, [alpha / 2, 1 - alpha / 2], axis=0)
    return lo, hi


def jackknife_acceleration(
    statistic: Callable, n: int, *, groups: int = 100, seed: int = 0
) -> np.ndarray:
    """BCa acceleration from a grouped (delete-a-group) jackknife of ``statistic``.

    With ``groups >= n`` this is the ordinary delete-one jackknife.
    """
    g = min(int(groups), n)
    rng = np.random.default_rng(seed)
    label = rng.permutation(np.arange(n) % g)
    thetas = []
    for k in range(g):
        freq = (label != k).astype(float)
        thetas.append(np.asarray(statistic(freq), dtype=float))
    th = np.array(thetas)
    dev = th.mean(axis=0) - th
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sum(dev**3, axis=0) / (6.0 * np.sum(dev**2, axis=0) ** 1.5)


def bca_interval(
    reps: np.ndarray, estimate: np.ndarray, acceleration: np.ndarray, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Bias-corrected and accelerated interval of each column (Efron 1987)."""
    reps = np.atleast_2d(np.asarray(reps, dtype=float))
    est = np.atleast_1d(np.asarray(estimate, dtype=float))
    acc = np.nan_to_num(np.atleast_1d(np.asarray(acceleration, dtype=float)))
    lo, hi = np.empty(len(est)), np.empty(len(est))
    for j in range(len(est)):
        r = reps[:, j][np.isfinite(reps[:, j])]
        if len(r) == 0:
            lo[j] = hi[j] = np.nan
            continue
        prop = (np.sum(r < est[j]) + 0.5 * np.sum(r == est[j])) / len(r)
        z0 = stats.norm.ppf(np.clip(prop, 1e-10, 1 - 1e-10))
        qs = []
        for a_ in (alpha / 2, 1 - alpha / 2):
            za = stats.norm.ppf(a_)
            qs.append(stats.norm.cdf(z0 + (z0 + za) / (1 - acc[j] * (z0 + za))))
        lo[j], hi[j] = np.quantile(r, qs)
    return lo, hi
