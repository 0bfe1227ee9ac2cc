"""Digest selection and rendering (pure: no I/O)."""
