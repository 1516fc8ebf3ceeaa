"""Build hook of delfin-like-drivers: the CSD agent's gRPC modules are generated, not kept.

The metadata lives in pyproject.toml; this file only adds a ``build_py`` that runs
grpcio-tools' protoc on the ``.proto`` files (a build requirement, see
``[build-system]``). A wheel gets the modules in its build directory; an editable
install (``pip install -e drivers``) gets them next to the ``.proto`` in the source
tree, where git ignores them.
"""

import os

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
# proto files, relative to this directory (which is also protoc's import root)
PROTOS = ("delfin_like_drivers/csd/proto/instorage.proto",)
SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def generated_files(out_dir: str) -> list[str]:
    """Paths of every module protoc writes under ``out_dir``."""
    return [os.path.join(out_dir, proto[: -len(".proto")] + suffix) for proto in PROTOS for suffix in SUFFIXES]


def generate(out_dir: str) -> list[str]:
    """Run protoc on every proto into ``out_dir``; returns the files written."""
    import importlib.resources

    from grpc_tools import protoc

    # google/protobuf/*.proto (Timestamp) ship inside grpcio-tools
    well_known = str(importlib.resources.files("grpc_tools") / "_proto")
    for proto in PROTOS:
        args = [
            "grpc_tools.protoc",
            f"--proto_path={HERE}",
            f"--proto_path={well_known}",
            f"--python_out={out_dir}",
            f"--pyi_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            os.path.join(HERE, proto),
        ]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc failed on {proto}")
    return generated_files(out_dir)


class BuildPyWithProtos(build_py):
    """``build_py`` that also generates the gRPC modules."""

    def run(self):
        if self.editable_mode:
            # an editable install imports from the source tree
            generate(HERE)
        super().run()
        if not self.editable_mode:
            # after the copy, so a stale source-tree copy never wins over a fresh one
            self.mkpath(self.build_lib)
            generate(self.build_lib)

    def get_outputs(self, include_bytecode=True):
        outputs = list(super().get_outputs(include_bytecode))
        if not self.editable_mode:
            outputs += [f for f in generated_files(self.build_lib) if f not in outputs]
        return outputs


setup(
    cmdclass={"build_py": BuildPyWithProtos},
    package_data={"delfin_like_drivers.csd": ["proto/*.proto", "fixtures/*.json"]},
)
