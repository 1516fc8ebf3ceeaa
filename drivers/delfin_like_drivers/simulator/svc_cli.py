"""The IBM Storwize/SVC command line of a simulated array: parsing and output, no I/O.

:func:`execute` turns one command line (``lsvdisk -bytes -delim :``) into a
:class:`Table` (the concise view: a header and rows) or a :class:`Detail`
(``lsvdisk 12``: name/value lines), built by :mod:`.svc_views`. The render
functions format either the way the SVC CLI does: columns padded with spaces,
or separated by the ``-delim`` character (inside values the delimiter and the
backslash are escaped by a backslash); ``-nohdr`` drops the header, ``-bytes``
prints capacities in bytes instead of ``1.00TB``. Errors are :class:`CliError`
carrying the CLI's ``CMMVC...E`` message (printed on stderr, exit status 1).
"""

import dataclasses
import shlex

from delfin_like_drivers.simulator import model, svc_views
from delfin_like_drivers.simulator.svc_views import CliError, Detail, Message, Table

UNSUPPORTED = "CMMVC7205E The command failed because it is not supported."
MISSING = "CMMVC5707E Required parameters are missing."

__all__ = ["COMMANDS", "CliError", "Detail", "Message", "Options", "Table", "execute", "mangle", "parse", "render"]


@dataclasses.dataclass
class Options:
    delim: str | None = None
    nohdr: bool = False
    bytes: bool = False
    obj: str | None = None  # the object id or name of a detailed view
    flags: dict[str, str] = dataclasses.field(default_factory=dict)  # command-specific "-name value" options


# command -> (view function, accepts -bytes, accepts an object id)
COMMANDS = {
    "lssystem": (svc_views.lssystem, True, False),
    "lsmdiskgrp": (svc_views.lsmdiskgrp, True, True),
    "lsmdisk": (svc_views.lsmdisk, True, True),
    "lsvdisk": (svc_views.lsvdisk, True, True),
    "lssevdiskcopy": (svc_views.lssevdiskcopy, True, False),
    "lsnode": (svc_views.lsnode, False, True),
    "lsnodecanister": (svc_views.lsnode, False, True),
    "lsnodehw": (svc_views.lsnodehw, False, True),
    "lsportfc": (svc_views.lsportfc, False, True),
    "lsportip": (svc_views.lsportip, False, False),
    "lsdrive": (svc_views.lsdrive, True, True),
    "lseventlog": (svc_views.lseventlog, False, True),
    # a simulator extension, not a real SVC command (see svc_views.lsiostatscounters)
    svc_views.STATS_COMMAND: (svc_views.lsiostatscounters, False, True),
}


# command -> its "-name value" options (each value one of the tuple's)
VALUE_FLAGS = {
    "lseventlog": {"-fixed": ("yes", "no"), "-expired": ("yes", "no"), "-alert": ("yes", "no"),
                   "-message": ("yes", "no"), "-monitoring": ("yes", "no")},
}  # fmt: skip
# the one change command the simulator takes (svctask cheventlog -fix <sequence_number>)
FIX_COMMAND = "cheventlog"
# simulator-only, no SVC command: log an event now (and send its traps), see _raise
RAISE_COMMAND = "simraiseevent"
_RAISE_FLAGS = {"-kind": "kind", "-resource": "resource_id", "-severity": "severity"}


def parse(command: str) -> tuple[str, Options]:
    """Split a command line into the command name and its options; CliError when invalid."""
    try:
        argv = shlex.split(command)
    except ValueError:
        raise CliError(MISSING) from None
    if argv and argv[0] == "svcinfo":
        argv = argv[1:]
    if not argv or argv[0] not in COMMANDS:
        raise CliError(UNSUPPORTED)
    name, args = argv[0], argv[1:]
    _, takes_bytes, takes_obj = COMMANDS[name]
    value_flags = VALUE_FLAGS.get(name, {})
    opts = Options()
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in value_flags:
            if i + 1 >= len(args) or args[i + 1] not in value_flags[arg]:
                bad = args[i + 1] if i + 1 < len(args) else arg
                raise CliError(f"CMMVC5709E [{bad}] is not a supported parameter.")
            opts.flags[arg] = args[i + 1]
            i += 2
            continue
        if arg == "-delim":
            if i + 1 >= len(args) or len(args[i + 1]) != 1 or args[i + 1].isspace():
                raise CliError(MISSING)
            opts.delim = args[i + 1]
            i += 1
        elif arg == "-nohdr":
            opts.nohdr = True
        elif arg == "-bytes" and takes_bytes:
            opts.bytes = True
        elif arg.startswith("-") or not takes_obj or opts.obj is not None:
            raise CliError(f"CMMVC5709E [{arg}] is not a supported parameter.")
        else:
            opts.obj = arg
        i += 1
    return name, opts


def _task_args(command: str, name: str, disabled, handler) -> list[str] | None:
    """The arguments of ``[svctask] <name> ...``; None for any other command (or a line that does not
    split). CliError when the command is disabled or the model gave no ``handler`` for it."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if argv and argv[0] == "svctask":
        argv = argv[1:]
    if not argv or argv[0] != name:
        return None
    if name in disabled or handler is None:
        raise CliError(UNSUPPORTED)
    return argv[1:]


def _fix(command: str, disabled, fix_event) -> Detail | None:
    """``[svctask] cheventlog -fix <sequence_number>``: mark the event fixed (no output); None for
    any other command. CliError when refused or when the log has no such event."""
    args = _task_args(command, FIX_COMMAND, disabled, fix_event)
    if args is None:
        return None
    if len(args) != 2 or args[0] != "-fix":
        raise CliError(MISSING)
    if not args[1].isdigit() or not fix_event(int(args[1])):
        raise CliError(svc_views.NO_OBJECT)
    return Detail([])


def _raise(command: str, disabled, raise_event) -> Message | None:
    """``[svctask] simraiseevent -kind <kind> [-resource <model id>] [-severity error|warning|informational]``,
    a simulator-only command (no SVC array has it): log an event of the model's catalogue now, which
    sends its traps to the simulator's trap sinks; prints ``Event, sequence number [N], successfully
    raised``. None for any other command; CliError when refused."""
    args = _task_args(command, RAISE_COMMAND, disabled, raise_event)
    if args is None:
        return None
    kwargs = {}
    if len(args) % 2:
        raise CliError(MISSING)
    for flag, value in zip(args[::2], args[1::2], strict=True):
        if flag not in _RAISE_FLAGS or _RAISE_FLAGS[flag] in kwargs:
            raise CliError(f"CMMVC5709E [{flag}] is not a supported parameter.")
        kwargs[_RAISE_FLAGS[flag]] = value
    if "kind" not in kwargs:
        raise CliError(MISSING)
    try:
        event = raise_event(**kwargs)
    except ValueError:
        raise CliError(svc_views.NO_OBJECT) from None
    return Message(f"Event, sequence number [{event.sequence}], successfully raised")


def execute(
    snap: model.Snapshot, command: str, disabled=frozenset(), read_counters=None, fix_event=None, raise_event=None
) -> tuple[Table | Detail | Message, Options]:
    """Run one command line against a snapshot: (the view, its output options); CliError when refused.

    ``disabled`` names commands to refuse as unsupported (older code levels, other models);
    ``read_counters`` (``ids -> (unix seconds, {id: Counters})``) reads live counters for the
    counters command (default: the snapshot's, at its clock); ``fix_event`` (``sequence -> bool``)
    marks an event fixed for ``cheventlog -fix`` (without it the command is unsupported);
    ``raise_event`` (the model's ``raise_event``) serves the simulator-only ``simraiseevent``.
    """
    fixed = _fix(command, disabled, fix_event)
    if fixed is not None:
        return fixed, Options()
    raised = _raise(command, disabled, raise_event)
    if raised is not None:
        return raised, Options()
    name, opts = parse(command)
    if name in disabled:
        raise CliError(UNSUPPORTED)
    if name == svc_views.STATS_COMMAND:
        return svc_views.lsiostatscounters(snap, opts, read_counters), opts
    return COMMANDS[name][0](snap, opts), opts


def _escape(value: str, delim: str) -> str:
    if "\\" in value or delim in value:
        return value.replace("\\", "\\\\").replace(delim, "\\" + delim)
    return value


def render_header(view: Table, opts: Options) -> str | None:
    """The header line of a delimited table (None with -nohdr)."""
    return None if opts.nohdr else opts.delim.join(view.columns)


def render_row(row: list[str], opts: Options) -> str:
    """One delimited table row, values escaped."""
    d = opts.delim
    return d.join(_escape(v, d) for v in row)


def render(view: Table | Detail | Message, opts: Options) -> list[str]:
    """Every output line of a view (without line ends)."""
    if isinstance(view, Message):
        return [view.text]
    if isinstance(view, Detail):
        sep = opts.delim or " "
        return ["" if not k else f"{k}{sep}{_escape(v, opts.delim) if opts.delim else v}" for k, v in view.items]
    if opts.delim is not None:
        header = render_header(view, opts)
        return ([] if header is None else [header]) + [render_row(r, opts) for r in view.rows]
    # without -delim the CLI pads each column to its widest value
    rows = view.rows if opts.nohdr else [view.columns, *view.rows]
    widths = [max(len(r[i]) for r in [view.columns, *view.rows]) for i in range(len(view.columns))]
    return [" ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def mangle(line: str, opts: Options) -> str:
    """A line a client cannot parse (the ``malformed`` fault): two fields lost, one separator blanked."""
    d = opts.delim or " "
    if d in line:
        return line.rsplit(d, 2)[0].replace(d, " ", 1)
    return f"{line}{d}?{d}"
