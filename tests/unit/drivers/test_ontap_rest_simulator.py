"""The simulator's ONTAP-style REST front end, spoken to with a plain HTTP client on loopback."""

import datetime

import pytest
import requests

from delfin_like_drivers.simulator.model import SimulatedArray
from delfin_like_drivers.simulator.rest import RestFrontEnd, ontap_uuid


@pytest.fixture
def array():
    return SimulatedArray(name="fe-sim", pools=2, volumes=30, seed=5)


@pytest.fixture
def front(array, tmp_path):
    fe = RestFrontEnd(array, state_dir=str(tmp_path / "sim"), username="admin", password="pw-1").start()
    yield fe
    fe.stop()


@pytest.fixture
def http(front):
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would replace our CA
    session.auth = ("admin", "pw-1")
    session.verify = front.ca_file

    def get(path, status=200, **params):
        resp = session.get(front.url + path, params=params, timeout=10)
        assert resp.status_code == status, resp.text
        return resp.json()

    yield get
    session.close()


def test_fields_select_dotted_paths(http, array):
    page = http("/api/storage/volumes", fields="space.size,aggregates.uuid", max_records=3)
    record = page["records"][0]
    assert set(record) == {"uuid", "space", "aggregates"} and set(record["space"]) == {"size"}
    assert record["aggregates"][0].keys() == {"uuid"}
    assert page["num_records"] == 3
    assert set(http("/api/storage/volumes")["records"][0]) == {"uuid", "name"}  # ONTAP's default
    star = http("/api/storage/volumes", fields="*")["records"][0]
    assert "guarantee" in star and "statistics" not in star
    assert "statistics" in http("/api/storage/volumes", fields="**")["records"][0]


def test_paging_follows_next_links_and_survives_churn(http, array):
    page = http("/api/storage/volumes", max_records=8)
    seen = [r["uuid"] for r in page["records"]]
    array.churn(created=4, deleted=4)  # between two pages of one listing
    while "next" in page["_links"]:
        path, _, query = page["_links"]["next"]["href"].partition("?")
        page = http(path, **dict(p.split("=", 1) for p in query.split("&")))
        seen += [r["uuid"] for r in page["records"]]
    assert len(seen) == len(set(seen)) and seen == sorted(seen)  # no record twice, key order
    # after the first page's cursor, the listing shows the array as it is now
    assert set(seen[8:]) == {v for v in array.volumes if v > seen[7]}


def test_counters_follow_the_clock(http, array):
    vol = sorted(array.volumes)[0]
    first = http("/api/storage/volumes", fields="statistics", max_records=1)["records"][0]["statistics"]
    array.advance(10)
    second = http("/api/storage/volumes", fields="statistics", max_records=1)["records"][0]["statistics"]
    counters = array.counters(vol)
    assert second["iops_raw"]["read"] == counters.read_ops > first["iops_raw"]["read"]
    assert second["throughput_raw"]["total"] == counters.read_bytes + counters.write_bytes
    assert second["latency_raw"]["write"] == counters.write_latency_us
    t1, t2 = (datetime.datetime.fromisoformat(s["timestamp"].replace("Z", "+00:00")) for s in (first, second))
    assert abs((t2 - t1).total_seconds() - 10) < 1e-3
    eth = http("/api/network/ethernet/ports", fields="statistics")["records"][0]["statistics"]
    assert "throughput_raw" in eth and "iops_raw" not in eth
    cluster = http("/api/cluster", fields="statistics")["statistics"]
    whole = array.counters(array.serial)
    assert cluster["iops_raw"]["total"] == whole.read_ops + whole.write_ops > 0


def test_cluster_and_keys(http, array):
    cluster = http("/api/cluster", fields="name,uuid,version")
    assert cluster == {
        "name": "fe-sim",
        "uuid": ontap_uuid(array.serial),
        "version": {"full": "NetApp Release 9.14.1 (simulated)", "generation": 9, "major": 14, "minor": 1},
    }
    assert {r["uuid"] for r in http("/api/storage/aggregates")["records"]} == {ontap_uuid(p) for p in array.pools}
    assert ontap_uuid(next(iter(array.volumes))) == next(iter(array.volumes))  # volume ids already are UUIDs


def test_refusals(http, front):
    assert http("/api/storage/volumes", status=400, colour="red")["error"]["target"] == "colour"
    assert http("/api/storage/volumes", status=400, fields="bogus")["error"]["target"] == "fields"
    assert http("/api/storage/volumes", status=400, max_records=0)["error"]["target"] == "max_records"
    assert http("/api/storage/luns", status=404)["error"]["code"] == "3"
    anonymous = requests.get(front.url + "/api/cluster", verify=front.ca_file, timeout=10)
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Basic")
    post = requests.post(front.url + "/api/cluster", verify=front.ca_file, auth=("admin", "pw-1"), timeout=10)
    assert post.status_code == 405


def test_restart_keeps_port_and_ca(front, http):
    port, ca = front.port, open(front.ca_file).read()
    front.stop()
    front.start()
    assert front.port == port and open(front.ca_file).read() == ca
    assert http("/api/cluster")["name"] == "fe-sim"
