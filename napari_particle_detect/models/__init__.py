"""Heatmap networks and the registry that saves and loads them with their metadata."""

from .registry import DetectorModel, build_network, default_model_path, load_model, load_model_cached, save_model

__all__ = [
    "DetectorModel", "build_network", "default_model_path", "load_model", "load_model_cached", "save_model",
]
