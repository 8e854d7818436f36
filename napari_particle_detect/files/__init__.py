"""Files: images and tables in and out, many files and clusters (dask.distributed), tracks, overlays."""
