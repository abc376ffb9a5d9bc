"""Spatial analytics and maps, and the Python API analysts import in notebooks.

``from geo import connect`` gives an :class:`geo.api.Analyst` (see :mod:`geo.api`); the
modules below it (``filters``, ``aggregate``, ``hotspots``, ``emerging``, ``grid``,
``listing``, ``maps``, ``exports``) are what the web app and the API share.
"""

from typing import Any

_API = ("Analyst", "StandaloneMap", "connect", "make_filter", "FILTER_KEYWORDS")


def __getattr__(name: str) -> Any:
    # Imported on first use: the web app imports geo's modules without the API's imports.
    if name in _API:
        from geo import api

        return getattr(api, name)
    raise AttributeError(f"module 'geo' has no attribute {name!r}")


__all__ = list(_API)
