"""The package version, in a module of its own so that the store's code can record it
without importing the package root (whose ``open()`` reaches the top layer, ``api``)."""

__version__ = "0.1.0"
