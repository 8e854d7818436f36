"""napari skin over the library: dock widget, reader, writer and sample data (see napari.yaml)."""
