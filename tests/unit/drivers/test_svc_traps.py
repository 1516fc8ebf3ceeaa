"""The simulated SVC array's event traps (IBM's layout) and ``ibm svc_ssh``'s parse_alert of them: one
event gives the same alert by trap as by ``lseventlog`` (issue 14: traps and alert sync agree)."""

import dataclasses

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from delfin_like.sdk import exceptions as sdk_exc
from delfin_like.sdk import models
from delfin_like_drivers.ibm import svc_events, svc_output
from delfin_like_drivers.ibm.svc_ssh import SvcSshDriver
from delfin_like_drivers.simulator import model, svc_cli, svc_traps


def _listed(snap, event) -> models.Alert:
    """The alert the driver lists for ``event``: its lseventlog row (and detailed view for an alert)."""
    view, opts = svc_cli.execute(snap, "lseventlog -fixed yes -delim :")
    rows = svc_output.table(svc_cli.render(view, svc_cli.Options(delim=":")), "lseventlog")
    row = next(r for r in rows if r["sequence_number"] == str(event.sequence))
    detail = None
    if svc_events.needs_detail(row):
        view, _ = svc_cli.execute(snap, f"lseventlog {event.sequence} -delim :")
        detail = svc_output.detail(svc_cli.render(view, svc_cli.Options(delim=":")), "lseventlog")
    return svc_events.to_alert(row, detail)


def _trap(snap, event) -> models.TrapInfo:
    trap_oid, binds = svc_traps.trap_of(snap, event)
    return models.TrapInfo(source_address="127.0.0.1", version="v2c", trap_oid=trap_oid,
                           varbinds=tuple((oid, value) for oid, _, value in binds))


@pytest.fixture
def array():
    arr = model.SimulatedArray(volumes=5, seed=3)
    for kind in model.EVENT_CATALOGUE:  # one event of every kind now, open
        arr.raise_event(kind)
    arr.raise_event("volume", severity="warning")  # a message whose trap says warning
    return arr


def test_every_event_reads_the_same_by_trap_as_by_lseventlog(array):
    snap = array.snapshot()
    for event in snap.events:
        parsed = svc_events.trap_to_alert(_trap(snap, event))
        listed = _listed(snap, event)
        assert parsed == dataclasses.replace(listed, cleared=False), event  # a trap is never cleared
        assert parsed.sequence_number == str(event.sequence)


def test_the_trap_layout_is_ibms(array):
    snap = array.snapshot()
    event = next(e for e in snap.events if e.kind == "disk" and not e.fixed)
    trap_oid, binds = svc_traps.trap_of(snap, event)
    assert trap_oid == "1.3.6.1.4.1.2.6.190.1"  # error
    values = {oid.rsplit(".", 1)[1]: value for oid, kind, value in binds}
    assert {kind for _, kind, _ in binds} == {"s"}
    assert values["9"] == f"# Error Sequence Number = {event.sequence}"
    assert values["4"] == "# Error Code = 1690 : Drive failed"
    assert values["3"] == f"# Error ID = 010070 : {event.message}"
    assert values["11"] == "# Object Type = drive" and values["2"] == f"# Serial Number = {snap.serial}"


def test_the_driver_parses_without_connecting():
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    access = models.AccessInfo(vendor="ibm", model="svc_ssh", ssh=models.AccessEndpoint(
        host="192.0.2.1", port=22, username="u", password="p", extra={"host_key": line}))  # nothing listens there
    arr = model.SimulatedArray(volumes=1)
    event = arr.raise_event("node")
    alert = SvcSshDriver(access).parse_alert(_trap(arr.snapshot(), event))
    assert (alert.sequence_number, alert.resource_type, alert.severity) == (str(event.sequence), "controller",
                                                                           "major")


def _varbinds(snap, event, changes) -> tuple:
    _, binds = svc_traps.trap_of(snap, event)
    out = []
    for oid, _, value in binds:
        n = int(oid.rsplit(".", 1)[1])
        if n in changes:
            if changes[n] is None:
                continue
            value = changes[n]
        out.append((oid, value))
    return tuple(out)


@pytest.mark.parametrize("trap_oid, changes, message", [
    ("1.3.6.1.6.3.1.1.5.3", {}, "not an SVC event notification"),
    ("1.3.6.1.4.1.2.6.190.9", {}, "not an SVC event notification"),
    ("1.3.6.1.4.1.2.6.190.1", {9: None}, "without Error Sequence Number"),
    ("1.3.6.1.4.1.2.6.190.1", {9: "# Error Sequence Number = abc"}, "not a number"),
    ("1.3.6.1.4.1.2.6.190.1", {10: "# Timestamp = yesterday"}, "Timestamp"),
    ("1.3.6.1.4.1.2.6.190.1", {3: "Error ID 010070"}, "is not '# <label> = <value>'"),
    ("1.3.6.1.4.1.2.6.190.1", {3: None, 11: None}, "without Error ID, Object Type"),
])
def test_a_trap_it_cannot_read_is_invalid_trap(array, trap_oid, changes, message):
    snap = array.snapshot()
    event = snap.events[-1]
    trap = models.TrapInfo(source_address="127.0.0.1", version="v2c", trap_oid=trap_oid,
                           varbinds=_varbinds(snap, event, changes))
    with pytest.raises(sdk_exc.InvalidTrap, match=message) as e:
        svc_events.trap_to_alert(trap)
    assert isinstance(e.value, sdk_exc.BackendError)


def test_simraiseevent_is_the_simulators_own_command(array):
    raised = []

    def raise_event(**kw):
        raised.append(kw)
        return array.raise_event(**kw)

    snap = array.snapshot()
    view, opts = svc_cli.execute(snap, "svctask simraiseevent -kind disk -severity warning", raise_event=raise_event)
    [line] = svc_cli.render(view, opts)
    sequence = max(array.events)
    assert line == f"Event, sequence number [{sequence}], successfully raised"
    assert raised == [{"kind": "disk", "severity": "warning"}] and array.events[sequence].severity == "warning"
    for command, error in [("simraiseevent -kind nothing", "CMMVC5753E"), ("simraiseevent -kind disk -resource x",
                           "CMMVC5753E"), ("simraiseevent", "CMMVC5707E"), ("simraiseevent -kind", "CMMVC5707E"),
                           ("simraiseevent -colour red", "CMMVC5709E")]:
        with pytest.raises(svc_cli.CliError, match=error):
            svc_cli.execute(snap, command, raise_event=array.raise_event)
    with pytest.raises(svc_cli.CliError, match="CMMVC7205E"):  # not served without the model's raise_event
        svc_cli.execute(snap, "simraiseevent -kind disk")


def test_a_listener_that_fails_does_not_undo_the_event():
    arr = model.SimulatedArray(volumes=1)
    got = []
    arr.add_event_listener(lambda e: 1 / 0)
    arr.add_event_listener(got.append)
    event = arr.raise_event("port")
    assert [e.sequence for e in got] == [event.sequence] and event.sequence in arr.events


@pytest.mark.parametrize("text, expected", [
    ("127.0.0.1:16162", ("127.0.0.1", 16162, "dflt")),
    ("127.0.0.1:162,other", ("127.0.0.1", 162, "other")),
    ("[::1]:1162", ("::1", 1162, "dflt")),
])
def test_trap_sinks(text, expected):
    sink = svc_traps.parse_sink(text, "dflt")
    assert (sink.host, sink.port, sink.community) == expected and "dflt" not in repr(sink)


@pytest.mark.parametrize("text", ["127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", ":162", "host:x"])
def test_bad_trap_sinks(text):
    with pytest.raises(ValueError):
        svc_traps.parse_sink(text, "c")


def test_the_simulator_cli_takes_trap_sinks_and_refuses_bad_ones(capsys):
    from delfin_like_drivers.simulator import cli

    parser = cli.build_parser()
    args = parser.parse_args(["--trap-sink", "127.0.0.1:16162", "--trap-sink", "127.0.0.1:16163,other"])
    cli._check_ports(parser, args)
    assert args.trap_sink == ["127.0.0.1:16162", "127.0.0.1:16163,other"]
    with pytest.raises(SystemExit):
        cli._check_ports(parser, parser.parse_args(["--trap-sink", "127.0.0.1"]))
    assert "--trap-sink: a trap sink is host:port[,community]" in capsys.readouterr().err

