"""Small argument checks shared by every analysis (``check_*`` functions in the scikit-learn manner).

The checks live in :mod:`workbench.columns`, the one resolver; this module keeps the older import
path ``from workbench.checks import check_alpha`` working.
"""

from __future__ import annotations

from .columns import check_alpha

__all__ = ["check_alpha"]
