"""Small argument checks shared by every analysis (``check_*`` functions in the scikit-learn manner).

Each names the argument, shows what was received and suggests a value.
"""

from __future__ import annotations

from typing import Any

from .exceptions import ParameterError


def check_alpha(alpha: Any) -> float:
    """Return ``alpha`` as a float in (0, 1) or raise :class:`ParameterError`.

    Examples
    --------
    >>> check_alpha(0.05)
    0.05
    """
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        a = float("nan")
    if isinstance(alpha, bool) or not 0 < a < 1:
        raise ParameterError(
            f"`alpha` must be a number in (0, 1), e.g. 0.05 for 95% intervals; got {alpha!r}."
        )
    return a
