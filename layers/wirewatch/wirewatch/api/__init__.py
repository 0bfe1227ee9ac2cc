"""The HTTP API: one API Gateway HTTP API resolver (routes.py), run locally by serve.py.

Kept import-light: the poll function imports runs.py from here without loading the router.
"""
