"""Presentation helpers shared by reports, notebooks and figures: display names with units
(:mod:`~workbench.presentation.labels`) and the one table formatting layer
(:mod:`~workbench.presentation.tables`)."""
