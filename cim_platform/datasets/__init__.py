"""Datasets: uploads, revisions, conversion into PostGIS-stored tiles, publishing."""
