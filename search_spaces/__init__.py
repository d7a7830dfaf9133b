"""Example search spaces, importable as ``tuner.search_spaces`` so the default ships with the package."""
