"""Where the client's connection settings come from: flag, then environment, then config file, then default."""

import configparser
import dataclasses
import os
import stat

DEFAULT_URL = "http://127.0.0.1:8190"
ENV = {"url": "DELFIN_LIKE_URL", "user": "DELFIN_LIKE_USER", "password": "DELFIN_LIKE_PASSWORD"}


def config_path(environ=None) -> str:
    """``$XDG_CONFIG_HOME/delfin-like/config``, by default ``~/.config/delfin-like/config``."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "delfin-like", "config")


@dataclasses.dataclass(frozen=True)
class Settings:
    url: str
    user: str | None
    password: str | None
    warnings: tuple[str, ...] = ()


def read_file(path: str) -> tuple[dict, list[str]]:
    """The ``[default]`` section of the INI file at ``path`` ({} if absent), and warnings about it."""
    if not os.path.exists(path):
        return {}, []
    warnings = []
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        # the file may hold the API password
        warnings.append(f"warning: {path} is readable by group or others (mode {mode:o}); chmod 600 it")
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    values = dict(parser["default"]) if parser.has_section("default") else {}
    return {k: v for k, v in values.items() if k in ENV}, warnings


def resolve(url=None, user=None, password=None, environ=None, path=None) -> Settings:
    """Merge the flags (None when not given) over the environment, the config file and the defaults."""
    environ = os.environ if environ is None else environ
    flags = {"url": url, "user": user, "password": password}
    values, warnings = {}, []
    file_values = None
    for key in ENV:
        value = flags[key] if flags[key] is not None else environ.get(ENV[key]) or None
        if value is None:
            if file_values is None:
                file_values, warnings = read_file(path or config_path(environ))
            value = file_values.get(key) or None
        values[key] = value
    return Settings(url=(values["url"] or DEFAULT_URL).rstrip("/"), user=values["user"],
                    password=values["password"], warnings=tuple(warnings))
