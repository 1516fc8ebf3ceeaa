"""List commands walk every page by the API's next links with --all (never by offset), over real HTTP."""

import argparse
import io

import pytest

from delfin_like.cli import client, inventory, shell, storages
from tests.perf_outputs import serve_api
from tests.unit.api.conftest import api, fake_bus, register_body, rpcapi, sync_now  # noqa: F401 - fixtures


@pytest.fixture
def served(api):  # noqa: F811 - the fixture imported above
    """The API on a loopback port over one synced fake storage of 10 volumes; yields its base URL."""
    storage = api.post_json("/v1/storages", register_body(port=1001, seed=1, pools=2, volumes=10)).json
    sync_now(storage["id"])
    with serve_api() as base:
        yield base


def _run(base, command, argv):
    """``(rows, requested URLs, stderr)`` of one list command run against ``base``."""
    stderr = io.StringIO()
    app = shell.DelfinLikeApp(stdin=io.StringIO(), stdout=io.StringIO(), stderr=stderr)
    urls = []
    app._client = client.ApiClient(base)
    app._client.session.hooks["response"].append(lambda response, **_: urls.append(response.url))
    cmd = command(app, argparse.Namespace(human=False))
    columns, rows = cmd.take_action(cmd.get_parser("delfin-like").parse_args(argv))
    return [dict(zip(columns, row, strict=True)) for row in rows], urls, stderr.getvalue()


def test_all_follows_next_links_page_by_page(served):
    everything, _, _ = _run(served, inventory.ListVolumes, ["-f", "json", "--limit", "1000"])
    assert len(everything) == 10
    rows, urls, _ = _run(served, inventory.ListVolumes, ["-f", "json", "--all", "--limit", "3"])
    assert [r["id"] for r in rows] == [r["id"] for r in everything]
    assert len(urls) == 4  # 3 + 3 + 3 + 1: the short page has no next link
    assert all("marker=" in url for url in urls[1:]) and not any("offset=" in url for url in urls)
    assert all("limit=3" in url for url in urls)


def test_all_keeps_the_filters_and_sort_and_starts_at_the_marker(served):
    first, _, _ = _run(served, inventory.ListVolumes, ["-f", "json", "--sort", "name:desc", "--limit", "1000"])
    rows, urls, _ = _run(served, inventory.ListVolumes,
                         ["-f", "json", "--all", "--limit", "4", "--sort", "name:desc", "--marker", first[1]["id"]])
    assert [r["id"] for r in rows] == [r["id"] for r in first[2:]]
    assert all("sort=name%3Adesc" in url for url in urls)
    storage_rows, _, _ = _run(served, storages.ListStorages, ["-f", "json", "--all", "--limit", "1"])
    assert len(storage_rows) == 1


def test_one_page_without_all_says_there_is_more(served):
    rows, urls, stderr = _run(served, inventory.ListVolumes, ["--limit", "3"])
    assert len(rows) == 3 and len(urls) == 1
    assert f"--marker {rows[-1]['id']}" in stderr and "--all" in stderr
    _, _, quiet = _run(served, inventory.ListVolumes, ["-f", "json", "--limit", "3"])
    assert quiet == ""  # machine formats keep stderr clean
