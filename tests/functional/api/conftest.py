"""``rpcapi``: the real task client recording what it cast, casting to the real RabbitMQ (a topic
prefix per test; the API tests here run the tasks themselves, so nothing consumes the casts)."""

import pytest

from tests.unit.api.conftest import RecordingTaskAPI


@pytest.fixture
def rpcapi(rabbit_bus):
    return RecordingTaskAPI()
