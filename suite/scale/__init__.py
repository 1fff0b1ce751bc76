"""Scale-out: batches larger than memory, scanned in chunks or on a Dask cluster."""
