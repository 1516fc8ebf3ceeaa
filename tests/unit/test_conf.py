"""delfin_like.conf: option groups, defaults, the generator listing and the sample file."""

import importlib
import importlib.metadata
import os
import pathlib
import pkgutil
import re
import socket

import pytest
from oslo_config import cfg, generator

from delfin_like import conf
from delfin_like.conf import CONF, default, opts

SAMPLE = pathlib.Path(__file__).resolve().parents[2] / "etc" / "delfin_like" / "delfin_like.conf.sample"
OPTION_LINE = re.compile(r"^#(\w+) =")
GROUPS = (
    "alert_exporters",
    "alertmanager_exporter",
    "jsonl_alert_exporter",
    "alert_receiver",
    "alert_sync",
    "all_in_one",
    "api",
    "coordination",
    "database",
    "exporters",
    "retention",
    "rpc",
    "scheduler",
    "security",
    "storage_driver",
    "task_manager",
)


def _listed() -> dict[str, list[cfg.Opt]]:
    out = {}
    for group, group_opts in opts.list_opts():
        name = group if isinstance(group, str) else group.name
        assert name not in out, f"group {name} listed twice"
        out[name] = list(group_opts)
    return out


def test_defaults():
    assert CONF.api.host == "127.0.0.1"
    assert CONF.api.port == 8190
    assert CONF.database.connection is None
    assert CONF.coordination.backend_url is None
    assert CONF.security.fernet_keys == []
    assert CONF.security.fernet_key_file is None
    assert CONF.rpc.topic is None  # derived from deployment_name
    assert CONF.deployment_name == "default"
    assert CONF.storage_driver.timeout == 60.0
    assert CONF.storage_driver.probe_timeout == 20.0
    assert CONF.task_manager.lease_seconds == 60
    assert CONF.task_manager.max_attempts == 3


def test_default_state_path(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default._default_state_path() == os.path.join(str(tmp_path), ".local", "share", "delfin-like")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default._default_state_path() == os.path.join(str(tmp_path / "xdg"), "delfin-like")


def test_list_opts_covers_every_group_and_option():
    listed = _listed()
    assert set(listed) == {"DEFAULT", *GROUPS}
    for group, group_opts in listed.items():
        for opt in group_opts:
            registered = CONF if group == "DEFAULT" else CONF[group]
            assert opt.dest in registered, f"{group}.{opt.dest} listed but not registered"
    # groups of a module beyond its main one: group -> their opts
    extra = {"alertmanager_exporter": conf.alert_exporters.alertmanager_opts,
             "jsonl_alert_exporter": conf.alert_exporters.jsonl_opts}
    for group in GROUPS:
        expected = extra[group] if group in extra else getattr(conf, group).opts
        assert listed[group] == list(expected)
    assert listed["DEFAULT"] == list(default.opts)


def test_every_option_module_is_listed():
    """A new module under delfin_like/conf must also be added to opts.list_opts."""
    listed = _listed()
    for info in pkgutil.iter_modules(conf.__path__):
        module = importlib.import_module(f"delfin_like.conf.{info.name}")
        if not hasattr(module, "register_opts"):
            continue
        group = getattr(module, "group", None)
        name = group.name if group is not None else "DEFAULT"
        assert name in listed, f"{info.name}: group {name} not in list_opts"
        assert all(o in listed[name] for o in module.opts), info.name
        assert name == "DEFAULT" or name in CONF


def test_secrets_are_marked_secret():
    listed = {(g, o.dest): o for g, group_opts in _listed().items() for o in group_opts}
    for key in (("database", "connection"), ("coordination", "backend_url"), ("security", "fernet_keys")):
        assert listed[key].secret, key


def test_generator_entry_point():
    eps = importlib.metadata.entry_points(group="oslo.config.opts")
    ours = [ep for ep in eps if ep.name == "delfin_like"]
    assert len(ours) == 1
    assert ours[0].load() is opts.list_opts


def test_no_environment_dependent_sample_defaults(tmp_path, monkeypatch):
    """The generator itself (not only the committed sample) writes no home directory or host name."""
    home = tmp_path / "home-of-the-generator"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    out = tmp_path / "generated.conf"
    root = SAMPLE.parents[2]
    generator.main(["--config-file", str(root / "etc" / "delfin_like" / "delfin_like-config-generator.conf"),
                    "--output-file", str(out)])
    for text in (out.read_text(), SAMPLE.read_text()):
        assert str(home) not in text
        assert os.path.expanduser("~") + "/.local" not in text
        assert f"= {socket.gethostname()}\n" not in text
        assert "#state_path = $HOME/.local/share/delfin-like" in text
        assert "#host = <hostname>" in text


@pytest.mark.parametrize("group", ("DEFAULT", *GROUPS))
def test_sample_documents_every_option(group):
    """etc/delfin_like/delfin_like.conf.sample is regenerated (tox -e genconfig) when options change."""
    sections: dict[str, set[str]] = {}
    current = None
    for line in SAMPLE.read_text().splitlines():
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections.setdefault(current, set())
        elif current and (match := OPTION_LINE.match(line)):
            sections[current].add(match.group(1))
    documented = sections.get(group, set())
    missing = [o.dest for o in _listed()[group] if o.dest not in documented]
    assert not missing, f"[{group}] {missing} missing from {SAMPLE.name}: run tox -e genconfig"
