"""Presentation: figures. One module per analysis area; every function takes the data or a
result plus an optional ``ax=``, draws, and returns the Axes (or Figure) it drew. No estimation here.

Importing this package applies the one figure style (:func:`workbench.plotting.style.apply`):
seaborn theme, colour-blind-safe palette, font sizes that read at 1280 px. Plot functions use the
helpers in :mod:`workbench.plotting.style` for units on axes, log-axis ticks and display names.
"""

from __future__ import annotations

from . import style

style.apply()


def get_ax(ax=None, figsize=None):
    """Return ``ax`` or a new Axes on a new figure of the style's size (matplotlib imported lazily)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize or style.FIGSIZE)
    return ax
