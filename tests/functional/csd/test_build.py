"""The build generates the gRPC modules: a wheel carries them, an editable install has them in the tree."""

import os
import pathlib
import subprocess
import sys
import zipfile

import delfin_like_drivers
from delfin_like_drivers.csd.proto import instorage_pb2, instorage_pb2_grpc

DRIVERS = pathlib.Path(delfin_like_drivers.__file__).resolve().parents[1]
GENERATED = ("instorage_pb2.py", "instorage_pb2.pyi", "instorage_pb2_grpc.py")


def test_editable_install_generated_the_modules_next_to_the_proto():
    proto_dir = pathlib.Path(instorage_pb2.__file__).parent
    assert (proto_dir / "instorage.proto").is_file()
    for name in GENERATED:
        assert (proto_dir / name).is_file()
    assert instorage_pb2_grpc.InstorageManagerStub


def test_wheel_carries_generated_modules_proto_and_fixtures(tmp_path):
    import grpc_tools  # noqa: F401 - the build requirement, needed without build isolation

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--disable-pip-version-check",
            str(DRIVERS),
            "-w",
            str(tmp_path / "wheels"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = (tmp_path / "wheels").glob("delfin_like_drivers-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "unpacked")
    base = "delfin_like_drivers/csd/"
    assert {base + "proto/" + name for name in GENERATED} | {base + "proto/instorage.proto"} <= names
    assert base + "fixtures/nvme-list.json" in names and base + "fixtures/nvme1-smart-log.json" in names
    # the unpacked wheel, first on the path, imports on its own
    probe = (
        "import delfin_like_drivers.csd.grpc_api as g, delfin_like_drivers.csd.proto.instorage_pb2 as p; "
        "print(p.__file__); print(g.SERVICE_NAME)"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "unpacked")}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60, check=True
    ).stdout.splitlines()
    assert out[0].startswith(str(tmp_path / "unpacked"))
    assert out[1] == "delfin_like.csd.v1.InstorageManager"
