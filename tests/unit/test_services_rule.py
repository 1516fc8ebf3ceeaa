"""tests/services.py: a missing service or test extra fails under CI=true and skips elsewhere."""

import pytest

from tests import services


@pytest.mark.parametrize("in_ci, outcome", ((True, pytest.fail.Exception), (False, pytest.skip.Exception)))
def test_a_missing_module_fails_in_ci_and_skips_elsewhere(monkeypatch, in_ci, outcome):
    monkeypatch.setattr(services, "IN_CI", in_ci)
    with pytest.raises(outcome, match="delfin_like_no_such_module"):
        services.require_module("delfin_like_no_such_module")


@pytest.mark.parametrize("in_ci, outcome", ((True, pytest.fail.Exception), (False, pytest.skip.Exception)))
def test_an_unreachable_service_fails_in_ci_and_skips_elsewhere(monkeypatch, in_ci, outcome):
    monkeypatch.setattr(services, "IN_CI", in_ci)
    with pytest.raises(outcome, match="127.0.0.1:1"):
        services.require("nothing", "127.0.0.1", 1)


def test_an_installed_module_is_returned():
    assert services.require_module("json").dumps([]) == "[]"


@pytest.mark.parametrize("in_ci, outcome", ((True, pytest.fail.Exception), (False, pytest.skip.Exception)))
def test_a_missing_alertmanager_fails_in_ci_and_skips_elsewhere(monkeypatch, in_ci, outcome):
    from tests import alert_helpers

    monkeypatch.setattr(services, "IN_CI", in_ci)
    monkeypatch.setattr(alert_helpers.shutil, "which", lambda _name: None)
    monkeypatch.setattr(alert_helpers.os.path, "exists", lambda _path: False)
    with pytest.raises(outcome, match="prometheus-alertmanager is not installed"):
        alert_helpers.require_alertmanager()
