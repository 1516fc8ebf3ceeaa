"""``GET /v1/openapi.json``: the hand-written OpenAPI 3.1 document of this API, as JSON."""

import copy
import functools
import importlib.resources
import re

import pecan
import yaml

from delfin_like.conf import CONF

# shipped as package data of delfin_like.api (pyproject.toml [tool.setuptools.package-data])
DOCUMENT = ("delfin_like.api", "openapi.yaml")
_HTTP_METHODS = ("get", "put", "post", "delete", "patch")


@functools.cache
def document() -> dict:
    """The OpenAPI document, parsed once per process."""
    package, name = DOCUMENT
    with importlib.resources.files(package).joinpath(name).open("r", encoding="utf-8") as f:
        return yaml.safe_load(f)


@functools.cache
def _route_table() -> list[tuple[re.Pattern, int, tuple[str, ...]]]:
    """(path pattern, literal segment count, methods) per documented path, most literal first."""
    table = []
    for path, item in document()["paths"].items():
        segments = [s for s in path.split("/") if s]
        pattern = "/" + "/".join("[^/]+" if s.startswith("{") else re.escape(s) for s in segments)
        literal = sum(not s.startswith("{") for s in segments)
        methods = tuple(sorted(m.upper() for m in item if m in _HTTP_METHODS))
        table.append((re.compile(pattern + "/?" if segments else "/"), literal, methods))
    table.sort(key=lambda row: -row[1])
    return table


def allowed_methods(path: str) -> tuple[str, ...] | None:
    """The HTTP methods the route of ``path`` serves (OPTIONS not included), or None for no route.

    A literal segment wins over a path parameter: ``/v1/storages/sync`` is the sync
    action (POST), not a storage called ``sync``.
    """
    for pattern, _literal, methods in _route_table():
        if pattern.fullmatch(path):
            return methods
    return None


def allow_header(methods: tuple[str, ...]) -> str:
    """The ``Allow`` header of a route serving ``methods``: those and OPTIONS."""
    return ", ".join(sorted({*methods, "OPTIONS"}))


def served_document() -> dict:
    """The document as this process serves it: the bounds that come from configuration filled in.

    The file holds the widest bounds; the API enforces ``[scheduler] min_sync_interval`` and
    ``[api] max_limit``, so the served document says those, and a client or a fuzzer reading it
    meets the same rules as the code.
    """
    doc = copy.deepcopy(document())
    schemas = doc["components"]["schemas"]
    minimum = max(1, CONF.scheduler.min_sync_interval)
    schemas["SyncPolicyUpdate"]["properties"]["interval"]["minimum"] = minimum
    schemas["StorageRegistration"]["properties"]["sync_policy"]["properties"]["interval"]["minimum"] = minimum
    doc["components"]["parameters"]["Limit"]["schema"]["maximum"] = CONF.api.max_limit
    doc["components"]["parameters"]["Offset"]["schema"]["maximum"] = CONF.api.max_offset
    return doc


class OpenAPIController:
    @pecan.expose(generic=True)
    def index(self):
        pecan.abort(405)

    @index.when(method="GET", template="json")
    def index_get(self):
        """``GET /v1/openapi.json`` -> the OpenAPI 3.1 document (:func:`served_document`)."""
        return served_document()
