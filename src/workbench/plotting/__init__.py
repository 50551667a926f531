"""Presentation: figures. One module per analysis area; every function takes the data or a
result plus an optional ``ax=``, draws, and returns the Axes (or Figure) it drew. No estimation here.
"""

from __future__ import annotations


def get_ax(ax=None, figsize=(7.0, 4.5)):
    """Return ``ax`` or a new Axes on a new figure (matplotlib imported lazily)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax
