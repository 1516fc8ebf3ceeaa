"""Helpers of the controllers: list query parameters (paging, sorting, exact filters), nested resources."""

import dataclasses

import pecan
from pecan import rest

from delfin_like.common import exception
from delfin_like.conf import CONF

# query parameters that steer the listing rather than filter it
_CONTROL_PARAMS = ("limit", "offset", "marker", "sort", "sort_key", "sort_dir")
_SORT_DIRS = ("asc", "desc")
# the largest OFFSET every supported database takes (a signed 64-bit integer)
_MAX_OFFSET = 2**63 - 1


@dataclasses.dataclass
class ListParams:
    """What a list request asked for, ready for ``db.api.*_list(**params.as_kwargs())``."""

    filters: dict[str, str]
    limit: int
    offset: int | None
    marker: str | None
    sort: list[tuple[str, str]]

    def as_kwargs(self) -> dict:
        return {
            "filters": self.filters,
            "limit": self.limit,
            "offset": self.offset,
            "marker": self.marker,
            "sort": self.sort,
        }


def _non_negative_int(name: str, value: str, maximum: int = _MAX_OFFSET) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise exception.InvalidInput(f"{name} must be a non-negative integer")
    if number < 0:
        raise exception.InvalidInput(f"{name} must be a non-negative integer")
    if number > maximum:
        raise exception.InvalidInput(f"{name} must not exceed {maximum}")
    return number


def parse_sort(params: dict[str, str]) -> list[tuple[str, str]]:
    """``sort=key:dir[,key:dir]`` (Delfin's form), or ``sort_key``/``sort_dir``.

    The direction defaults to ``asc``. Whether a key exists is the db layer's
    call (it raises InvalidInput for an unknown one).
    """
    if "sort" in params and ("sort_key" in params or "sort_dir" in params):
        raise exception.InvalidInput("give either sort or sort_key/sort_dir, not both")
    if "sort" in params:
        items = [item.strip() for item in params["sort"].split(",")]
    elif "sort_key" in params:
        items = [f"{params['sort_key']}:{params.get('sort_dir', 'asc')}"]
    elif "sort_dir" in params:
        raise exception.InvalidInput("sort_dir needs sort_key")
    else:
        return []
    sort = []
    for item in items:
        key, _, direction = item.partition(":")
        key, direction = key.strip(), (direction.strip().lower() or "asc")
        if not key:
            raise exception.InvalidInput("sort needs key:dir pairs separated by commas")
        if direction not in _SORT_DIRS:
            raise exception.InvalidInput(f"sort direction of {key!r} must be asc or desc")
        sort.append((key, direction))
    return sort


def parse_list_params(query) -> ListParams:
    """Turn a request's query (a webob MultiDict or plain dict) into :class:`ListParams`.

    Every parameter that is not a paging/sorting control is an exact-match
    filter; the db layer rejects unknown filter keys with InvalidInput. A
    parameter given twice is rejected rather than silently picking one.
    """
    params: dict[str, str] = {}
    for key in query.keys():
        values = query.getall(key) if hasattr(query, "getall") else [query[key]]
        if len(values) > 1:
            raise exception.InvalidInput(f"parameter {key!r} is given more than once")
        params[key] = values[0]

    max_limit = CONF.api.max_limit
    if "limit" in params:
        limit = _non_negative_int("limit", params["limit"], maximum=max_limit)
    else:
        limit = min(CONF.api.default_limit, max_limit)
    offset = _non_negative_int("offset", params["offset"]) if "offset" in params else None
    marker = params.get("marker") or None
    if marker is not None and offset is not None:
        raise exception.InvalidInput("give either marker or offset, not both")
    sort = parse_sort(params)
    filters = {k: v for k, v in params.items() if k not in _CONTROL_PARAMS}
    return ListParams(filters=filters, limit=limit, offset=offset, marker=marker, sort=sort)


class _GuardedController(rest.RestController):
    """A RestController that refuses some requests before pecan routes them (:meth:`_refuse`)."""

    @pecan.expose()  # as the method it overrides: pecan routes only through exposed callables
    def _route(self, args, request=None):
        if request is None:
            request = pecan.request
        self._refuse(args, request)
        return super()._route(args, request)

    def _refuse(self, args, request) -> None:
        """Raise (or abort) to refuse the request; return to let pecan route it."""


class StorageSubresource(_GuardedController):
    """A resource under ``/v1/storages/{id}/``.

    pecan also routes ``/v1/storages/<its name>`` here, with no storage id (a storage whose id
    happens to be ``sync-policy``): that is a 404 for that storage, like any unknown one, not a
    handler called without its argument (a 500) or a 405.
    """

    def _refuse(self, args, request) -> None:
        if not request.pecan.get("routing_args"):
            raise exception.StorageNotFound(request.path.rstrip("/").rsplit("/", 1)[-1])


class Collection(_GuardedController):
    """A collection whose members can be deleted (``DELETE /v1/<collection>/{id}``): a DELETE of the
    collection itself is a 405, not its member handler called without an id (a 500)."""

    def _refuse(self, args, request) -> None:
        if request.method == "DELETE" and not any(args):
            pecan.abort(405)
