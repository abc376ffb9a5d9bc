"""Spatial analytics and maps, and the Python API analysts import in notebooks."""
