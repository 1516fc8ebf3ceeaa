"""``netapp ontap_rest``: record mapping, and the driver against an in-process simulator on loopback."""

import os
import socket
import threading
import time
import types

import pytest

from delfin_like.sdk import exceptions, models
from delfin_like_drivers.netapp import ontap_rest, rest_client
from delfin_like_drivers.netapp.ontap_rest import OntapRestDriver
from delfin_like_drivers.simulator.model import SimulatedArray
from delfin_like_drivers.simulator.rest import RestFrontEnd, ontap_uuid

PASSWORD = "unit-Secret-77"


@pytest.fixture
def array():
    return SimulatedArray(name="unit-sim", pools=2, volumes=45, seed=3)


@pytest.fixture
def front(array, tmp_path):
    fe = RestFrontEnd(array, state_dir=str(tmp_path / "sim"), username="admin", password=PASSWORD).start()
    yield fe
    fe.stop()


def _driver(front, timeout=5.0, default_verify=True, ca_path=None, password=PASSWORD, **extra):
    """A driver for ``front``, trusting its CA through ``rest.ca_cert`` unless told otherwise."""
    if front.ca_file and "verify" not in extra and ca_path is None:
        with open(front.ca_file) as f:
            extra.setdefault("ca_cert", f.read())
    endpoint = models.AccessEndpoint(
        host="127.0.0.1", port=front.port, username="admin", password=password, extra=extra
    )
    access = models.AccessInfo(
        vendor="netapp", model="ontap_rest", rest=endpoint, timeout=timeout, verify=default_verify, ca_path=ca_path
    )
    return OntapRestDriver(access)


# -- mapping ---------------------------------------------------------------------------------


def test_volume_mapping_and_states():
    record = {
        "uuid": "u1",
        "name": "v1",
        "state": "online",
        "aggregates": [{"uuid": "a1"}],
        "space": {"size": 100, "used": 30, "available": 70},
        "guarantee": {"type": "none"},
    }
    vol = ontap_rest.volume_from(record)
    assert (vol.native_volume_id, vol.native_storage_pool_id, vol.type) == ("u1", "a1", "thin")
    assert (vol.total_capacity, vol.used_capacity, vol.free_capacity, vol.status) == (100, 30, 70, "available")
    assert ontap_rest.volume_from(dict(record, state="offline")).status == "error"
    assert ontap_rest.volume_from(dict(record, state="weird")).status == "unknown"
    assert ontap_rest.volume_from(dict(record, guarantee={"type": "volume"})).type == "thick"
    no_free = ontap_rest.volume_from({**record, "space": {"size": 100, "used": 30}})
    assert no_free.free_capacity == 70


@pytest.mark.parametrize(
    "broken",
    [
        {"uuid": None},  # required
        {"name": 5},  # wrong type
        {"space": {"size": "100"}},  # a string where bytes are due
        {"space": {"size": -1}},  # negative capacity
        {"space": {"size": True}},  # a bool is not a number of bytes
    ],
)
def test_malformed_records_are_backend_errors(broken):
    record = {"uuid": "u1", "name": "v1", "space": {"size": 100}, **broken}
    with pytest.raises(exceptions.BackendError) as info:
        ontap_rest.volume_from(record)
    assert "volume record" in info.value.message


def test_status_vocabularies():
    pool = {"uuid": "a", "name": "a", "space": {"block_storage": {"size": 10, "used": 4}}}
    assert [
        ontap_rest.pool_from(dict(pool, state=s)).status for s in ("online", "offline", "restricted", "failed")
    ] == ["normal", "offline", "degraded", "abnormal"]
    assert ontap_rest.pool_from(pool).free_capacity == 6
    node = {"uuid": "n", "name": "n"}
    assert [ontap_rest.controller_from(dict(node, state=s)).status for s in ("up", "down", "degraded", "x")] == [
        "normal",
        "offline",
        "degraded",
        "unknown",
    ]
    fc = {"uuid": "p", "name": "0a", "state": "offlined_by_system", "fabric": {"connected": False}}
    port = ontap_rest.fc_port_from(fc)
    assert (port.connection_status, port.health_status, port.speed, port.type) == (
        "disconnected",
        "abnormal",
        None,
        "fc",
    )
    disk = {"name": "1.0.3", "type": "fsas", "container_type": "spare", "state": "spare", "rpm": 7200}
    d = ontap_rest.disk_from(disk)
    assert (d.native_disk_id, d.physical_type, d.logical_type, d.status, d.speed) == (
        "1.0.3",
        "nl-sas",
        "hotspare",
        "normal",
        7200,
    )
    assert ontap_rest.disk_from(dict(disk, container_type="broken", state="broken")).status == "abnormal"


def test_storage_status_from_node_states():
    cluster = {"name": "c", "uuid": "u", "version": {"generation": 9, "major": 13, "minor": 1}}
    totals = {"raw": 1, "total": 2, "used": 1, "free": 1}
    assert ontap_rest.storage_from(cluster, ["up", "up"], totals, "AFF").status == "normal"
    assert ontap_rest.storage_from(cluster, ["up", "down"], totals, "AFF").status == "degraded"
    assert ontap_rest.storage_from(cluster, ["down"], totals, None).status == "offline"
    storage = ontap_rest.storage_from(cluster, [], totals, None)
    assert (storage.status, storage.firmware_version, storage.model) == ("unknown", "9.13.1", "ONTAP")


def test_next_links_stay_on_the_array():
    ok = {"_links": {"next": {"href": "/api/storage/volumes?start.uuid=x"}}}
    assert rest_client._next_href(ok, "h") == "/api/storage/volumes?start.uuid=x"
    assert rest_client._next_href({"_links": {}}, "h") is None
    for href in ("https://evil.example/api/x", "//evil.example/api/x", "/other/x", 42):
        with pytest.raises(exceptions.BackendError):
            rest_client._next_href({"_links": {"next": {"href": href}}}, "h")


@pytest.mark.parametrize(
    "extra, what",
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": "10"}, "page_size"),
        ({"scheme": "ftp"}, "scheme"),
        ({"verify": "yes"}, "verify"),
        ({"ca_cert": "not a certificate"}, "ca_cert"),
        ({"ca_cert": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, "ca_cert"),
    ],
)
def test_bad_options_are_invalid_access_info(extra, what):
    endpoint = models.AccessEndpoint(host="127.0.0.1", port=1, username="u", password="p", extra=extra)
    with pytest.raises(exceptions.InvalidAccessInfo) as info:
        OntapRestDriver(models.AccessInfo(vendor="netapp", model="ontap_rest", rest=endpoint))
    assert what in info.value.message


def test_a_rest_block_is_required():
    with pytest.raises(exceptions.InvalidAccessInfo):
        OntapRestDriver(models.AccessInfo(vendor="netapp", model="ontap_rest"))


def test_capabilities_declare_units_per_resource_type():
    endpoint = models.AccessEndpoint(host="127.0.0.1", port=1, username="u", password="p")
    caps = OntapRestDriver(models.AccessInfo(vendor="netapp", model="ontap_rest", rest=endpoint)).get_capabilities()
    assert caps["is_historic"] is False
    metrics = caps["resource_metrics"]
    assert set(metrics) == {"storage", "storage_pool", "volume", "controller", "port"}  # disks have no counters
    assert metrics["volume"]["throughput"]["unit"] == "bytes/s" and metrics["storage"]["response_time"]["unit"] == "s"
    assert metrics["port"]["read_bytes_total"]["type"] == "counter"
    assert caps["collection"]["volume"] == {"min_interval": 15, "is_historic": False}


# -- against the simulator -----------------------------------------------------------------


def test_volumes_are_paged_lazily_and_completely(front, array):
    drv = _driver(front, page_size=7)
    try:
        volumes = drv.list_volumes()
        assert isinstance(volumes, types.GeneratorType | map)
        served = front.requests_served
        first = next(volumes)
        assert front.requests_served == served + 1  # one page, not the whole listing
        rest = list(volumes)
        assert front.requests_served == served + 7  # 45 volumes in pages of 7
        assert {v.native_volume_id for v in [first, *rest]} == set(array.volumes)
    finally:
        drv.close()


def test_storage_and_hardware(front, array):
    drv = _driver(front)
    try:
        storage = drv.get_storage()
        snap = array.snapshot()
        assert (storage.serial_number, storage.total_capacity, storage.raw_capacity) == (
            ontap_uuid(array.serial),
            snap.total,
            snap.raw,
        )
        assert len(list(drv.list_controllers())) == 2
        ports = list(drv.list_ports())
        assert sorted(p.type for p in ports) == ["eth"] * 4 + ["fc"] * 4
        assert {d.native_disk_group_id for d in drv.list_disks()} == {None} | {ontap_uuid(p) for p in array.pools}
    finally:
        drv.close()


def test_wrong_password_is_invalid_credentials_without_the_password(front):
    drv = _driver(front, password="Wrong-Secret-1")
    with pytest.raises(exceptions.InvalidCredentials) as info:
        drv.get_storage()
    assert "Wrong-Secret-1" not in f"{info.value.message} {info.value.detail}"
    assert PASSWORD not in f"{info.value.message} {info.value.detail}"


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_certificate_checks(front, tmp_path):
    # no CA anywhere: the system's CAs do not know the simulator's
    with pytest.raises(exceptions.BackendUnreachable) as info:
        _driver(front, ca_cert=None).get_storage()
    assert "certificate" in info.value.message
    # the service-wide CA path, and verification switched off for this array only
    assert _driver(front, ca_path=front.ca_file).get_storage().name == "unit-sim"
    assert _driver(front, verify=False).get_storage().name == "unit-sim"


def test_the_private_ca_file_is_removed_on_close(front):
    drv = _driver(front)
    path = drv._ca_file
    assert path and oct(os.stat(path).st_mode & 0o777) == "0o600"
    drv.close()
    assert not os.path.exists(path)


def test_plain_http(array, tmp_path):
    fe = RestFrontEnd(array, tls=False, username="admin", password=PASSWORD).start()
    try:
        assert fe.ca_file is None
        assert len(list(_driver(fe, scheme="http").list_storage_pools())) == 2
    finally:
        fe.stop()


def test_a_slow_listing_times_out(front, array):
    drv = _driver(front, timeout=1.0)
    array.faults["rest"].delay = 1.6
    with pytest.raises(exceptions.DriverTimeout) as info:
        list(drv.list_volumes())
    assert "within 1 s" in info.value.message


def test_a_connection_closed_mid_listing(front, array):
    drv = _driver(front, page_size=10)
    array.faults["rest"].drop_after = 25
    listed = []
    with pytest.raises(exceptions.BackendUnreachable) as info:
        for volume in drv.list_volumes():
            listed.append(volume)
    assert len(listed) == 20 and "closed the connection" in info.value.message


def test_malformed_output(front, array):
    array.faults["rest"].malformed = True
    with pytest.raises(exceptions.BackendError) as info:
        _driver(front).get_storage()
    assert "not valid JSON" in info.value.message


def test_error_statuses_are_backend_errors(front):
    drv = _driver(front)
    with pytest.raises(exceptions.BackendError) as info:
        drv._client.get("/api/storage/luns")
    assert "HTTP 404" in info.value.message and "API not found" in info.value.detail
    with pytest.raises(exceptions.BackendError) as info:
        drv._client.get("/api/storage/volumes", {"colour": "red"})
    assert "HTTP 400" in info.value.message


def test_nobody_listening_is_unreachable(front):
    drv = _driver(front)
    front.stop()
    with pytest.raises(exceptions.BackendUnreachable) as info:
        drv.get_storage()
    assert info.value.message == "the array could not be reached"


def test_a_peer_that_trickles_bytes_meets_the_deadline():
    # a real TCP peer that answers headers at once, then one byte every 0.2 s of a 1000-byte body
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
            while not stop.wait(0.2):
                try:
                    conn.sendall(b" ")
                except OSError:
                    return

    peer = threading.Thread(target=serve, daemon=True)
    peer.start()
    endpoint = models.AccessEndpoint(
        host="127.0.0.1", port=listener.getsockname()[1], username="u", password="p", extra={"scheme": "http"}
    )
    drv = OntapRestDriver(models.AccessInfo(vendor="netapp", model="ontap_rest", rest=endpoint, timeout=1.0))
    started = time.monotonic()
    try:
        with pytest.raises(exceptions.DriverTimeout) as info:
            drv.get_storage()
        assert time.monotonic() - started < 4 and "body still arriving" in info.value.detail
    finally:
        stop.set()
        drv.close()
        listener.close()
        peer.join(5)
