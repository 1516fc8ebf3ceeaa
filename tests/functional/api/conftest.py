"""The API unit-test fixtures (fake:// bus, recording client), reused against real databases."""

from tests.unit.api.conftest import fake_bus, rpcapi, task_manager  # noqa: F401 - fixtures
