"""The ground: terrain from DEMs and imagery from orthophotos served for the city (issue 14)."""
