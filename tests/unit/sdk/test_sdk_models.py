"""delfin_like.sdk.models: frozen, slotted, normalised resource models."""

import dataclasses
import subprocess
import sys

import pytest

from delfin_like.common import constants
from delfin_like.sdk import models


def test_models_are_frozen_and_slotted():
    vol = models.Volume(native_volume_id="v", name="n")
    with pytest.raises(dataclasses.FrozenInstanceError):
        vol.name = "other"
    assert not hasattr(vol, "__dict__")


def test_defaults():
    vol = models.Volume(native_volume_id="v", name="n")
    assert (vol.status, vol.type, vol.total_capacity) == ("available", "thick", 0)
    pool = models.StoragePool(native_storage_pool_id="p", name="n")
    assert (pool.status, pool.storage_type) == ("normal", "block")
    storage = models.Storage(name="s", vendor="v", model="m", serial_number="sn")
    assert storage.status == models.StorageStatus.NORMAL


def test_models_compare_by_value():
    assert models.Volume(native_volume_id="v", name="n") == models.Volume(native_volume_id="v", name="n")
    assert models.Volume(native_volume_id="v", name="n") != models.Volume(native_volume_id="v", name="m")


@pytest.mark.parametrize("resource_type, model", models.RESOURCE_MODELS.items())
def test_resource_models_name_their_native_id(resource_type, model):
    assert model.NATIVE_ID in models.field_names(model)
    assert models.field_names(model)[0] == model.NATIVE_ID
    assert resource_type in constants.RESOURCE_TYPES


def test_field_names_in_declaration_order():
    assert models.field_names(models.StoragePool)[:3] == ("native_storage_pool_id", "name", "status")
    assert "NATIVE_ID" not in models.field_names(models.Volume)


def test_access_endpoint_hides_its_password():
    endpoint = models.AccessEndpoint(host="h", port=1, username="u", password="hunter2", extra={"k": "v"})
    info = models.AccessInfo(vendor="v", model="m", rest=endpoint)
    assert "hunter2" not in repr(endpoint)
    assert "hunter2" not in repr(info)
    assert info.timeout == 60.0
    assert info.extra_attributes == {}


def test_status_vocabularies():
    assert models.VolumeStatus.ALL == ("available", "error", "unknown")
    assert "normal" in models.StoragePoolStatus.ALL and "normal" in models.StorageStatus.ALL
    assert models.StorageType.ALL == ("block", "file", "unified")
    assert models.VolumeType.ALL == ("thick", "thin")


def test_sdk_imports_nothing_of_the_service():
    code = (
        "import sys; import delfin_like.sdk.driver, delfin_like.sdk.models, delfin_like.sdk.exceptions; "
        "print(sorted(m for m in sys.modules if m.startswith('delfin_like') "
        "and m != 'delfin_like' and not m.startswith('delfin_like.sdk')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_alert_fields_follow_the_contract():
    assert models.field_names(models.Alert) == (
        "sequence_number", "alert_id", "alert_name", "severity", "category", "type", "description",
        "occur_time", "resource_type", "native_resource_id", "location", "recovery_advice", "cleared",
    )
    assert models.Alert.NATIVE_ID == "sequence_number"
    alert = models.Alert("7", "linkDown", "Link down", "major", "fault", "communications")
    assert (alert.description, alert.occur_time, alert.resource_type, alert.cleared) == ("", None, "storage", False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        alert.cleared = True
    assert not hasattr(alert, "__dict__")


def test_alert_vocabularies():
    assert models.AlertSeverity.ALL == (
        "fatal", "critical", "major", "minor", "warning", "informational", "not_specified",
    )
    assert models.AlertCategory.ALL == ("fault", "event", "recovery", "not_specified")
    assert models.AlertType.ALL == (
        "equipment", "communications", "processing_error", "quality_of_service", "environmental", "security",
        "not_specified",
    )


def test_trap_info_hides_its_community_and_finds_values():
    trap = models.TrapInfo(
        source_address="127.0.0.1", version="v2c",
        varbinds=(("1.3.6.1.2.1.1.3.0", "42"), ("1.3.6.1.2.1.2.2.1.1.3", "3")),
        trap_oid="1.3.6.1.6.3.1.1.5.3", community_or_user="s3cret",
    )
    assert "s3cret" not in repr(trap)
    assert trap.received_at.tzinfo is not None
    assert trap.value("1.3.6.1.2.1.2.2.1.1") == "3"
    assert trap.value("1.3.6.1.2.1.2.2.1.1.3") == "3"
    assert trap.value("1.3.6.1.2.1.2.2.1.10") is None
    assert models.field_names(models.TrapInfo) == (
        "source_address", "version", "varbinds", "trap_oid", "engine_id", "community_or_user", "received_at",
    )


def test_models_keep_the_dataclass_signature_and_stay_frozen():
    """The descriptor-filled __init__ (models._fast_frozen_init) behaves as the one dataclasses writes."""
    import inspect

    for cls in (models.Volume, models.Storage, models.AccessInfo, models.TrapInfo, models.Alert):
        fields = dataclasses.fields(cls)
        params = list(inspect.signature(cls).parameters.values())
        assert [p.name for p in params] == [f.name for f in fields]
        for p, f in zip(params, fields, strict=True):
            if f.default is not dataclasses.MISSING:
                assert p.default == f.default
            elif f.default_factory is dataclasses.MISSING:
                assert p.default is inspect.Parameter.empty
    a = models.Volume("v1", "vol-1", total_capacity=10)
    b = models.Volume(native_volume_id="v1", name="vol-1", total_capacity=10)
    assert a == b and hash(a) == hash(b) and a.status == models.VolumeStatus.AVAILABLE
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.name = "other"
    with pytest.raises(TypeError):
        models.Volume("v1")  # name is required
    with pytest.raises(TypeError):
        models.Volume("v1", "vol-1", colour="red")
    # a default factory gives each instance its own value
    one, two = (models.AccessInfo(vendor="v", model="m") for _ in range(2))
    assert one.extra_attributes == {} and one.extra_attributes is not two.extra_attributes
    assert dataclasses.replace(a, name="renamed").name == "renamed"
