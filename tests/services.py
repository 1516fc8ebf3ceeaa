"""Where the real services of the functional and e2e tests live, and the rule when one is missing.

With ``CI=true`` a missing service FAILS the test (CI must not go green by
skipping); elsewhere it skips with the reason. Addresses can be moved with
environment variables; tests only ever target 127.0.0.1.
"""

import importlib
import os
import socket
import uuid

import pytest

POSTGRES_URL = os.environ.get("DELFIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("DELFIN_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
RABBIT_URL = os.environ.get("DELFIN_TEST_RABBIT_URL", "rabbit://guest:guest@127.0.0.1:5672/")
REDIS_URL = os.environ.get("DELFIN_TEST_REDIS_URL", "redis://127.0.0.1:6379")

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _reachable(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require(name: str, host: str, port: int) -> None:
    """Fail (in CI) or skip (elsewhere) unless ``host:port`` accepts connections."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if IN_CI:
        pytest.fail(message + " (CI=true: services are required)")
    pytest.skip(message)


def require_module(name: str):
    """Import and return module ``name``; fail (in CI) or skip (elsewhere) when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        message = f"{name} is not installed ({exc})"
    if IN_CI:
        pytest.fail(message + " (CI=true: every test extra is required)")
    pytest.skip(message)


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"
