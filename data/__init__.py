"""Bundled reference data (read with importlib.resources, never from ../shared)."""
