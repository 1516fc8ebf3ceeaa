"""Pure formatting helpers: IEC sizes, which columns to show, task result summaries."""

# fields holding bytes (a disk's speed is rpm; a port's speeds are bits per second, see bit_rate)
SIZE_FIELDS = frozenset({"raw_capacity", "total_capacity", "used_capacity", "free_capacity",
                         "subscribed_capacity", "capacity", "memory_size"})
MACHINE_FORMATS = frozenset({"json", "yaml", "csv", "value"})
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
# link rates are decimal: a 32GFC port is 32 Gbit/s, not 29.8 Gibit/s
_RATE_UNITS = ("bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s", "Pbit/s")


def iec(size) -> object:
    """Bytes as an IEC string (``1.5 GiB``); anything that is not an int comes back unchanged."""
    if isinstance(size, bool) or not isinstance(size, int):
        return size
    value, unit = float(size), 0
    while abs(value) >= 1024 and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    if unit == 0:
        return f"{size} B"
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{text} {_UNITS[unit]}"


def bit_rate(rate) -> object:
    """Bits per second as a decimal rate string (``32 Gbit/s``); anything that is not an int comes back unchanged."""
    if isinstance(rate, bool) or not isinstance(rate, int):
        return rate
    value, unit = float(rate), 0
    while abs(value) >= 1000 and unit < len(_RATE_UNITS) - 1:
        value /= 1000
        unit += 1
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text} {_RATE_UNITS[unit]}"


def want_human(formatter: str, human: bool | None) -> bool:
    """Human sizes: on for tables, off for machine formats, unless --human/--no-human says otherwise."""
    if human is not None:
        return human
    return formatter not in MACHINE_FORMATS


def humanize(row: dict, human: bool, rate_fields=frozenset()) -> dict:
    """A copy of ``row`` with byte fields as IEC strings and ``rate_fields`` (bits/s) as rates when ``human``."""
    if not human:
        return dict(row)
    return {k: iec(v) if k in SIZE_FIELDS else bit_rate(v) if k in rate_fields else v for k, v in row.items()}


def select_columns(all_columns, default_columns, formatter: str, long: bool, requested) -> tuple:
    """The columns a list fetches: all of them for machine formats, --long or -c; the short set otherwise.

    :param requested: the -c columns (cliff then picks those out of what is returned).
    """
    all_columns = tuple(all_columns)
    if long or requested or formatter in MACHINE_FORMATS:
        return all_columns
    return tuple(c for c in default_columns if c in all_columns)


def task_summary(result) -> str:
    """One line per resource type of a task result: ``volumes +5 ~0 -0 =0``, then rows written."""
    if not isinstance(result, dict):
        return "" if result is None else str(result)
    lines = []
    for name, counts in result.items():
        if isinstance(counts, dict):
            lines.append(f"{name} +{counts.get('added', 0)} ~{counts.get('updated', 0)} "
                         f"-{counts.get('deleted', 0)} ={counts.get('unchanged', 0)}")
    if "rows_written" in result:
        lines.append(f"rows written {result['rows_written']}")
    return "\n".join(lines)


def parse_key_value(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` with VALUE parsed as JSON when it parses (``pools=2`` -> 2), else kept as a string."""
    import json

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value
