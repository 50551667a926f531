"""Linear algebra of the Cox engine: Cholesky solves and inverses of the information matrix that
name the covariates when it is singular, the pseudo-inverse used for diverging coefficients, and the
collinearity screen that lists which columns are combinations of which.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import linalg

from ..exceptions import CollinearityError, ModelError

_CONTROLLER: list = []


def one_blas_thread():
    """A context limiting BLAS to one thread: the products here are narrow (n x p, small p), and on a
    shared machine threaded BLAS on them is many times slower (oversubscription). threadpoolctl's
    library scan (milliseconds) is done once and cached."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover
        import contextlib

        return contextlib.nullcontext()
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def _safe_inverse(M) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of the information; where it is singular (diverging coefficients) a pseudo-inverse,
    with the directions it cannot invert flagged."""
    try:
        c = linalg.cho_factor(M, lower=True, check_finite=True)
    except (linalg.LinAlgError, ValueError):
        M = np.nan_to_num(M, nan=0.0, posinf=0.0, neginf=0.0)
        vals, vecs = np.linalg.eigh(0.5 * (M + M.T))
        small = vals <= max(vals.max(initial=0.0), 0.0) * 1e-12
        inv = (vecs[:, ~small] / vals[~small]) @ vecs[:, ~small].T
        weight = (vecs[:, small] ** 2).sum(axis=1) if small.any() else np.zeros(len(M))
        return 0.5 * (inv + inv.T), weight > 1e-6
    inv = linalg.cho_solve(c, np.eye(M.shape[0]))
    return 0.5 * (inv + inv.T), np.zeros(M.shape[0], dtype=bool)


def collinear_columns(X: np.ndarray, names: Sequence[str]) -> list[tuple[str, list[str]]]:
    """Columns of ``X`` that are linear combinations of others, each with its partners.

    Pivoted QR of the standardised columns; a column beyond the numerical rank is collinear with
    the basis columns that reproduce it. Returns ``[(name, [partner, ...]), ...]``.
    """
    X = np.asarray(X, dtype=float)
    if X.shape[1] < 2:
        return []
    # the correlation matrix from one p x p product: a well-conditioned design needs nothing more
    # (centred in chunks that stay in cache, not as a second n x p array)
    mean = X.mean(axis=0)
    gram = np.zeros((X.shape[1], X.shape[1]))
    buf = np.empty((min(len(X), 65_536), X.shape[1]), order="F" if X.flags.f_contiguous else "C")
    for lo in range(0, len(X), len(buf)):
        Xc = np.subtract(X[lo : lo + len(buf)], mean, out=buf[: len(X[lo : lo + len(buf)])])
        gram += Xc.T @ Xc
    gram /= len(X)
    sd = np.sqrt(np.clip(np.diag(gram), 0.0, None))
    sd[sd == 0] = 1.0
    ev = np.linalg.eigvalsh(gram / np.outer(sd, sd))
    if ev.min(initial=np.inf) > 1e-8 * max(ev.max(initial=0.0), 1e-300):
        return []
    Xs = (X - mean) / sd
    _, R, piv = linalg.qr(Xs, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    tol = max(Xs.shape) * np.finfo(float).eps * 1e3 * (diag[0] if diag.size else 1.0)
    rank = int((diag > tol).sum())
    out = []
    for pj in piv[rank:]:
        coef, *_ = linalg.lstsq(Xs[:, piv[:rank]], Xs[:, pj])
        order = np.argsort(-np.abs(coef))
        partners = [names[piv[:rank][i]] for i in order if abs(coef[i]) > 1e-6][:4]
        out.append((names[pj], partners))
    return out


def _collinearity_error(X: np.ndarray, names: list[str]) -> CollinearityError:
    found = collinear_columns(X, names)
    listed = "; ".join(f"{c!r} = combination of {p}" for c, p in found) or f"among {names}"
    return CollinearityError(
        f"the covariates are collinear ({listed}): their effects cannot be separated, so the "
        "Cox model has no unique estimate. Drop one column of each set (e.g. one dummy per "
        "categorical) or combine them."
    )


def _chol(M, terms, keep):
    try:
        return linalg.cho_factor(M, lower=True, check_finite=True)
    except (linalg.LinAlgError, ValueError) as err:
        names = [terms[j] for j in keep]
        raise ModelError(
            "the information matrix is singular or not finite: covariates among "
            f"{names} are collinear (one is a combination of others) or the fit diverged. "
            "Drop redundant columns (e.g. one dummy per categorical level) or use a `penalizer`."
        ) from err


def _solve(M, v, terms, keep):
    return linalg.cho_solve(_chol(M, terms, keep), v)


def _quad_solve(M, v, terms, keep) -> float:
    return float(v @ _solve(M, v, terms, keep))


def _inverse(M, terms, keep):
    c = _chol(M, terms, keep)
    inv = linalg.cho_solve(c, np.eye(M.shape[0]))
    return 0.5 * (inv + inv.T)
