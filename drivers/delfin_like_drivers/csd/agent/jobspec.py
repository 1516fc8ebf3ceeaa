"""What a job is and the rules a submitted one must follow.

:func:`validate` turns the fields of a submitted spec into a :class:`JobSpec` or
raises :class:`JobError` carrying the gRPC status code the client gets:
INVALID_ARGUMENT for a malformed field (relative path, bad id, unknown device,
another node, too many CPUs), FAILED_PRECONDITION when the node's state refuses
it (data path missing, output path is a file), UNIMPLEMENTED for image jobs.
"""

import dataclasses
import math
import os
import re
from collections.abc import Iterable

import grpc

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
NAMESPACE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
LABEL_KEY_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$")
ENV_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
MAX_TEXT = 255
MAX_ARG = 4096
MAX_ARGS_TOTAL = 64 * 1024
MAX_LABELS = 64
MAX_ENV = 64
MIN_MEMORY = 16 * 1024 * 1024  # below this no interpreter starts
RESERVED_ENV_PREFIX = "CSD_"


class JobError(Exception):
    """A refused request: ``code`` is the gRPC status the client gets, ``message`` says why."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(message: str) -> JobError:
    return JobError(grpc.StatusCode.INVALID_ARGUMENT, message)


@dataclasses.dataclass(frozen=True)
class JobSpec:
    job_id: str
    job_name: str
    namespace: str
    command: tuple[str, ...]
    data_path: str
    output_path: str
    image: str = ""
    target_node: str = ""
    cpu: float = 0.0
    memory: int = 0
    csd_enabled: bool = False
    csd_device_path: str = ""
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    timeout_seconds: int = 0

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["command"] = list(self.command)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "JobSpec":
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["command"] = tuple(values.get("command") or ())
        return cls(**values)


def _text(value: str, field: str, limit: int = MAX_TEXT) -> str:
    if len(value) > limit:
        raise invalid(f"{field} is longer than {limit} characters")
    if any(ord(ch) < 32 for ch in value):
        raise invalid(f"{field} holds control characters")
    return value


def _absolute(value: str, field: str, prefixes: tuple[str, ...]) -> str:
    """An absolute, normalised path under one of ``prefixes`` (any when empty)."""
    if not value:
        raise invalid(f"{field} is required")
    if "\x00" in value or len(value) > MAX_ARG:
        raise invalid(f"{field} is not a valid path")
    if not os.path.isabs(value):
        raise invalid(f"{field} must be an absolute path, not {value!r}")
    if ".." in value.split("/"):
        raise invalid(f"{field} must not contain '..'")
    path = os.path.normpath(value)
    if prefixes and not any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes):
        raise invalid(f"{field} {path} is outside the paths this node allows ({', '.join(prefixes)})")
    return path


def _pairs(values: dict, field: str, key_re: re.Pattern, limit: int) -> dict[str, str]:
    if len(values) > limit:
        raise invalid(f"{field}: at most {limit} entries")
    out = {}
    for key, value in values.items():
        if not key_re.match(key):
            raise invalid(f"{field}: invalid key {key!r}")
        out[key] = _text(value, f"{field}[{key}]", MAX_ARG)
    return out


def validate(
    fields: dict,
    *,
    node_name: str,
    device_paths: Iterable[str] = (),
    path_prefixes: tuple[str, ...] = (),
    cpu_count: int | None = None,
) -> JobSpec:
    """Check a submitted spec against the rules and the node; returns the normalised spec.

    :param fields: the spec's fields (``JobSpec`` names plus ``resources`` and ``csd`` dicts).
    :param device_paths: block devices of this node's NVMe namespaces (for ``csd.device_path``).
    :raises JobError: the first rule broken, with its gRPC code.
    """
    job_id = fields.get("job_id") or ""
    if not ID_RE.match(job_id):
        raise invalid("job_id must be 1-128 characters of [A-Za-z0-9._-], starting with a letter or digit")
    namespace = fields.get("namespace") or "default"
    if not NAMESPACE_RE.match(namespace):
        raise invalid("namespace must be 1-63 characters of [A-Za-z0-9._-], starting with a letter or digit")
    job_name = _text(fields.get("job_name") or job_id, "job_name")

    image = _text(fields.get("image") or "", "image")
    command = tuple(fields.get("command") or ())
    if image and command:
        raise invalid("give either image or command, not both")
    if image:
        raise JobError(
            grpc.StatusCode.UNIMPLEMENTED,
            "this agent runs commands; container images need a container runtime it does not have",
        )
    if not command or not command[0]:
        raise invalid("command is required (the program and its arguments)")
    if sum(len(arg) for arg in command) > MAX_ARGS_TOTAL or any(len(arg) > MAX_ARG for arg in command):
        raise invalid("command is too long")
    if any("\x00" in arg for arg in command):
        raise invalid("command holds a NUL character")

    data_path = _absolute(fields.get("data_path") or "", "data_path", path_prefixes)
    output_path = _absolute(fields.get("output_path") or "", "output_path", path_prefixes)
    if output_path == "/":
        raise invalid("output_path must not be /")

    target_node = fields.get("target_node") or ""
    if target_node and target_node != node_name:
        raise invalid(f"target_node {target_node!r} is not this node ({node_name!r})")

    resources = fields.get("resources") or {}
    cpu = float(resources.get("cpu") or 0.0)
    if not math.isfinite(cpu) or cpu < 0:
        raise invalid("resources.cpu must be a non-negative number")
    if cpu_count and cpu > cpu_count:
        raise invalid(f"resources.cpu {cpu:g} exceeds the node's {cpu_count} CPUs")
    memory = int(resources.get("memory") or 0)
    if memory < 0 or (memory and memory < MIN_MEMORY):
        raise invalid(f"resources.memory must be 0 (no limit) or at least {MIN_MEMORY} bytes")

    csd = fields.get("csd") or {}
    csd_enabled = bool(csd.get("enabled"))
    device = csd.get("device_path") or ""
    if csd_enabled:
        known = sorted(set(device_paths))
        if device not in known:
            raise invalid(
                f"csd.device_path {device!r} is not an NVMe namespace of this node ({', '.join(known) or 'none'})"
            )
    elif device:
        raise invalid("csd.device_path is set but csd.enabled is false")

    labels = _pairs(dict(fields.get("labels") or {}), "labels", LABEL_KEY_RE, MAX_LABELS)
    env = _pairs(dict(fields.get("env") or {}), "env", ENV_KEY_RE, MAX_ENV)
    reserved = sorted(k for k in env if k.startswith(RESERVED_ENV_PREFIX))
    if reserved:
        raise invalid(f"env: {', '.join(reserved)} are set by the agent ({RESERVED_ENV_PREFIX}*)")
    timeout = int(fields.get("timeout_seconds") or 0)
    if timeout < 0:
        raise invalid("timeout_seconds must be >= 0")

    # the node's state, after every field is known to be well formed
    if not os.path.exists(data_path):
        raise JobError(grpc.StatusCode.FAILED_PRECONDITION, f"data_path {data_path} does not exist on this node")
    if os.path.exists(output_path) and not os.path.isdir(output_path):
        raise JobError(grpc.StatusCode.FAILED_PRECONDITION, f"output_path {output_path} exists and is not a directory")

    return JobSpec(
        job_id=job_id,
        job_name=job_name,
        namespace=namespace,
        command=command,
        data_path=data_path,
        output_path=output_path,
        image=image,
        target_node=target_node or node_name,
        cpu=cpu,
        memory=memory,
        csd_enabled=csd_enabled,
        csd_device_path=device,
        labels=labels,
        env=env,
        timeout_seconds=timeout,
    )
