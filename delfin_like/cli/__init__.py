"""The ``delfin-like`` command-line client: a pure HTTP client of the REST API (cliff + requests).

Nothing here imports the service's internals (db, rpc, conf), so the client could ship on its own.
"""
