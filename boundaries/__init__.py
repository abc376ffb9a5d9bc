"""Boundaries: the home jurisdiction, neighboring agencies, wards and districts.

Loading (GeoJSON, Shapefile, GeoPackage) with validation and repair, layer versions,
and point lookups in the database and in process.
"""
