"""Reading the output of the IBM Storwize/SVC CLI, asked with ``-delim :`` and its header.

Rows are read by column name, so the column order and columns a newer code
level adds do not matter. Inside values, the delimiter and the backslash are
escaped by a backslash; :func:`split` honours that. Anything that does not
fit (a row with the wrong number of fields, a number that is not one) raises
:class:`~delfin_like.sdk.exceptions.BackendError` naming the command and line,
never the value (a value is array data, not a secret, but it may be long).
"""

import re
from collections.abc import Iterable, Iterator

from delfin_like.sdk import exceptions

DELIM = ":"

# the CLI's units are binary multiples with decimal names (1.00GB = 1024**3 bytes)
_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4, "PB": 1024**5, "EB": 1024**6}
_CAPACITY = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGTPE]?B)$", re.IGNORECASE)
_SPEED = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT]?)b(?:/s|ps)?$", re.IGNORECASE)
_SPEED_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def malformed(command: str, what: str) -> exceptions.BackendError:
    """The error for output the driver cannot read."""
    return exceptions.BackendError(f"malformed output of {command}: {what}")


def split(line: str, delim: str = DELIM) -> list[str]:
    """Split one line on ``delim``, honouring backslash escapes (``a\\:b:c`` -> ``["a:b", "c"]``)."""
    if "\\" not in line:
        return line.split(delim)
    fields, current, escaped = [], [], False
    for ch in line:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == delim:
            fields.append("".join(current))
            current = []
        else:
            current.append(ch)
    if escaped:
        current.append("\\")  # a lone trailing backslash stands for itself
    fields.append("".join(current))
    return fields


def table(lines: Iterable[str], command: str) -> Iterator[dict[str, str]]:
    """The rows of a concise view (header line first) as dicts by column name.

    :raises BackendError: a row whose field count differs from the header's.
    """
    header: list[str] | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = split(line)
        if header is None:
            header = [name.strip() for name in fields]
            if len(set(header)) != len(header) or not all(header):
                raise malformed(command, "the header line has empty or repeated column names")
            continue
        if len(fields) != len(header):
            raise malformed(command, f"line {number} has {len(fields)} fields, the header {len(header)}")
        yield dict(zip(header, fields, strict=True))


def detail(lines: Iterable[str], command: str) -> dict[str, str]:
    """The attributes of a detailed view (``name:value`` lines); the first of repeated names wins.

    :raises BackendError: a line without a delimiter, or no attribute at all.
    """
    out: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = split(line)
        if len(fields) < 2 or not fields[0].strip() or " " in fields[0].strip():
            raise malformed(command, f"line {number} is not a name{DELIM}value pair")
        out.setdefault(fields[0].strip(), DELIM.join(fields[1:]))
    if not out:
        raise malformed(command, "no attributes")
    return out


def need(row: dict[str, str], column: str, command: str) -> str:
    """``row[column]``; BackendError if the output has no such column."""
    try:
        return row[column]
    except KeyError:
        raise malformed(command, f"no {column!r} column") from None


def capacity(value: str | None, column: str, command: str) -> int:
    """A capacity in bytes from ``1073741824`` (``-bytes``) or ``1.00GB``; empty means 0."""
    value = (value or "").strip()
    if not value:
        return 0
    if value.isdigit():
        return int(value)
    m = _CAPACITY.match(value)
    if not m:
        raise malformed(command, f"{column} is not a capacity")
    return int(round(float(m.group(1)) * _UNITS[m.group(2).upper()]))


def integer(value: str | None, column: str, command: str) -> int | None:
    """An integer column; empty means None."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise malformed(command, f"{column} is not an integer") from None


def speed(value: str | None) -> int | None:
    """Bits per second from ``16Gb``, ``10Gb/s`` or ``100Mb/s``; None for ``N/A``, empty or unknown."""
    m = _SPEED.match((value or "").strip())
    if not m:
        return None
    return int(float(m.group(1)) * _SPEED_UNITS[m.group(2).upper()])


def wwn(value: str | None) -> str | None:
    """A WWN as lower-case colon-separated bytes (``500507680B218FF6`` -> ``50:05:07:68:0b:21:8f:f6``)."""
    value = (value or "").strip().replace(":", "").lower()
    if not value:
        return None
    if len(value) % 2 or not all(c in "0123456789abcdef" for c in value):
        return value
    return ":".join(value[i : i + 2] for i in range(0, len(value), 2))


def version(code_level: str | None) -> str | None:
    """``8.5.0.6 (build 157.12.2206091456000)`` -> ``8.5.0.6``."""
    code_level = (code_level or "").strip()
    return code_level.split(" (", 1)[0].strip() or None
