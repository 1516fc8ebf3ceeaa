"""Reading and validating request bodies.

Bodies carry passwords, so nothing here ever puts a submitted value into an
error message or a log line: messages name the offending field and the rule
it broke, never what was sent.
"""

import json
import math

import jsonschema
from jsonschema import validators

from delfin_like.common import exception


def json_body(request) -> dict:
    """Parse the JSON object in ``request``'s body.

    Raises MalformedRequestBody (400) when the body is empty, not JSON or not an
    object. (Its size was checked by ``hooks.BodyLimitHook`` before routing.)
    """
    raw = request.body
    if not raw.strip():
        raise exception.MalformedRequestBody("the body is empty")
    body = loads(raw)
    if not isinstance(body, dict):
        raise exception.MalformedRequestBody("the body must be a JSON object")
    return body


def loads(raw: bytes | str):
    """Parse a JSON document the API may read: bounded depth, finite numbers, no NUL in strings.

    :raises MalformedRequestBody: not JSON, or nested deeper than :data:`MAX_DEPTH`.
    :raises InvalidInput: a number out of range (``1e999``, ``NaN``, ``Infinity``) or a NUL, naming the field.
    """
    try:
        # NaN/Infinity parse to floats here and are refused with their field below
        document = json.loads(raw)
    except RecursionError:
        raise exception.MalformedRequestBody(f"nested deeper than {MAX_DEPTH} levels")
    except (ValueError, UnicodeDecodeError) as e:
        # the position is useful and safe; the decoder's message never quotes the document
        raise exception.MalformedRequestBody(f"not valid JSON ({type(e).__name__} at {_pos(e)})")
    _check_values(document)
    return document


# far beyond any body of this API, far below what recursive code (jsonschema, json.dumps) survives
MAX_DEPTH = 32


def _check_values(document) -> None:
    """Walk ``document`` without recursion: refuse deep nesting, non-finite numbers and NUL characters."""
    stack = [(document, (), 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise exception.MalformedRequestBody(f"nested deeper than {MAX_DEPTH} levels")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and "\x00" in key:
                    raise exception.InvalidInput(f"{_dotted(path)}: strings must not contain NUL characters")
                stack.append((item, (*path, key), depth + 1))
        elif isinstance(value, float) and not math.isfinite(value):
            raise exception.InvalidInput(f"{_dotted(path)}: number out of range")
        elif isinstance(value, str) and "\x00" in value:
            # PostgreSQL cannot store NUL in text; no legitimate value holds one
            raise exception.InvalidInput(f"{_dotted(path)}: strings must not contain NUL characters")


def _dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path) or "body"


def _pos(e: Exception) -> str:
    if isinstance(e, json.JSONDecodeError):
        return f"line {e.lineno} column {e.colno}"
    return "unknown position"


def _field(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    return path or "body"


def _safe_message(error: jsonschema.ValidationError) -> str:
    """A message about ``error`` that names fields and rules but never values."""
    field = _field(error)
    rule = error.validator
    expected = error.validator_value
    if rule == "required":
        # the message is "'<name>' is a required property": a schema name, not a value
        return f"{field}: {error.message}"
    if rule == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"{field}: unknown field(s) {', '.join(map(repr, extra))}"
    if rule == "type":
        return f"{field}: must be of type {expected}"
    if rule in ("minimum", "maximum"):
        bounds = error.schema
        return f"{field}: must be between {bounds.get('minimum')} and {bounds.get('maximum')}"
    if rule == "minLength":
        return f"{field}: must not be empty"
    if rule == "maxLength":
        return f"{field}: must be at most {expected} characters"
    if rule == "enum":
        return f"{field}: must be one of {', '.join(map(str, expected))}"
    if rule in ("anyOf", "oneOf") and "description" in error.schema:
        return f"{field}: {error.schema['description']}"
    return f"{field}: does not satisfy '{rule}'"


def validate(schema: dict, body: dict) -> None:
    """Validate ``body`` against the JSON ``schema``; InvalidInput (400) on the first error.

    Errors are reported in a stable order (by field path) so a client sees the
    same message for the same body.
    """
    cls = validators.validator_for(schema)
    errors = sorted(cls(schema).iter_errors(body), key=lambda e: (len(e.absolute_path), _field(e)))
    if errors:
        raise exception.InvalidInput(_safe_message(errors[0]))
