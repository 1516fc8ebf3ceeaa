"""``GET /v1/openapi.json``: the hand-written OpenAPI 3.1 document of this API, as JSON."""

import functools
import importlib.resources

import pecan
import yaml

# shipped as package data of delfin_like.api (pyproject.toml [tool.setuptools.package-data])
DOCUMENT = ("delfin_like.api", "openapi.yaml")


@functools.cache
def document() -> dict:
    """The OpenAPI document, parsed once per process."""
    package, name = DOCUMENT
    with importlib.resources.files(package).joinpath(name).open("r", encoding="utf-8") as f:
        return yaml.safe_load(f)


class OpenAPIController:
    @pecan.expose(generic=True)
    def index(self):
        pecan.abort(405)

    @index.when(method="GET", template="json")
    def index_get(self):
        """``GET /v1/openapi.json`` -> the OpenAPI 3.1 document."""
        return document()
