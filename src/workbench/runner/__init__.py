"""Running notebooks: parameters, papermill execution, HTML export, batches, index, provenance."""
