"""Exact parsing of Kubernetes resource quantities ("500m", "2", "4Gi", "1e3").

The Instorage Manager contract carries CPU and memory as Kubernetes quantity
strings.  They are parsed with :class:`decimal.Decimal` so that "0.1" CPU or
"1.5Gi" memory never pick up binary floating-point error.  A malformed value
raises :class:`QuantityError` carrying the field name (for example
``resources.requests.cpu``) so the gRPC layer can answer INVALID_ARGUMENT
naming it.
"""

import decimal
import re

# Binary (power of two) and decimal (power of ten) suffixes, as Kubernetes
# defines them for resource.Quantity.
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": decimal.Decimal("1e-9"),
    "u": decimal.Decimal("1e-6"),
    "m": decimal.Decimal("1e-3"),
    "": decimal.Decimal(1),
    "k": decimal.Decimal("1e3"),
    "M": decimal.Decimal("1e6"),
    "G": decimal.Decimal("1e9"),
    "T": decimal.Decimal("1e12"),
    "P": decimal.Decimal("1e15"),
    "E": decimal.Decimal("1e18"),
}
_PATTERN = re.compile(
    r"^(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+))"
    r"(?:(?P<exp>[eE][+-]?\d+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$"
)


class QuantityError(ValueError):
    """A quantity string that is not a valid Kubernetes quantity."""

    def __init__(self, field, value):
        super().__init__(f"{field}: {value!r} is not a valid Kubernetes quantity")
        self.field = field
        self.value = value


def parse_quantity(value, field):
    """Return ``value`` as an exact, non-negative :class:`~decimal.Decimal`.

    ``field`` names the request field, used in the error message.
    """
    match = _PATTERN.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise QuantityError(field, value)
    number = decimal.Decimal(match.group("num"))
    if match.group("exp"):
        number = number.scaleb(int(match.group("exp")[1:]))
    else:
        suffix = match.group("suffix") or ""
        number *= _BINARY[suffix] if suffix in _BINARY else _DECIMAL[suffix]
    if number < 0:
        raise QuantityError(field, value)
    return number


def cpu_cores(value, field):
    """CPU quantity as cores (Decimal): "500m" -> 0.5, "2" -> 2."""
    return parse_quantity(value, field)


def memory_bytes(value, field):
    """Memory quantity as whole bytes (rounded up): "4Gi" -> 4294967296."""
    return int(parse_quantity(value, field).to_integral_value(rounding=decimal.ROUND_CEILING))
