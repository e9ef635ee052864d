"""Common library of the anime recommendation platform (imported by every service)."""

__version__ = "0.1.0"
