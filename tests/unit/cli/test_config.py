"""Connection settings: flag over environment over config file over default; the file-mode warning."""

import os

from delfin_like.cli import config


def _write(path, text, mode=0o600):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)
    return str(path)


def test_defaults(tmp_path):
    s = config.resolve(environ={}, path=str(tmp_path / "none"))
    assert (s.url, s.user, s.password, s.warnings) == (config.DEFAULT_URL, None, None, ())


def test_precedence(tmp_path):
    path = _write(tmp_path / "config", "[default]\nurl = http://file:1/\nuser = fu\npassword = fp\n")
    env = {"DELFIN_LIKE_USER": "eu"}
    s = config.resolve(url=None, user=None, password=None, environ=env, path=path)
    assert (s.url, s.user, s.password) == ("http://file:1", "eu", "fp")
    s = config.resolve(url="http://flag:2", user="cu", environ=env, path=path)
    assert (s.url, s.user, s.password) == ("http://flag:2", "cu", "fp")


def test_group_readable_file_warns(tmp_path):
    path = _write(tmp_path / "config", "[default]\npassword = p\n", mode=0o644)
    s = config.resolve(environ={}, path=path)
    assert s.password == "p"
    assert len(s.warnings) == 1 and "chmod 600" in s.warnings[0] and path in s.warnings[0]


def test_file_not_read_when_everything_is_given(tmp_path):
    path = _write(tmp_path / "config", "[default]\npassword = p\n", mode=0o644)
    assert config.resolve("http://u", "a", "b", environ={}, path=path).warnings == ()


def test_config_path_follows_xdg():
    assert config.config_path({"XDG_CONFIG_HOME": "/x"}) == "/x/delfin-like/config"
