"""Fixtures of the ``ibm svc_ssh`` tests: the simulator's SSH CLI on loopback, client keys, bodies.

The package's conftest.py makes the fixtures available to every module of it.
"""

import dataclasses

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from delfin_like_drivers.simulator.model import SimulatedArray
from delfin_like_drivers.simulator.ssh import SshFrontEnd

SSH_USER = "svc-monitor"
SSH_PASSWORD = "Sim-ssh-pw-0001"
KEY_PASSPHRASE = "Key-passphrase-0001"


@dataclasses.dataclass(frozen=True)
class KeyPair:
    private: str  # PEM / OpenSSH text, as the registration body carries it
    public: str  # OpenSSH public key line, as an authorized_keys file holds it
    passphrase: str | None = None


def _pair(key, fmt, passphrase: str | None = None) -> KeyPair:
    enc = serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    private = key.private_bytes(serialization.Encoding.PEM, fmt, enc).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return KeyPair(private, public.decode() + " delfin-like-test", passphrase)


@pytest.fixture(scope="session")
def ed25519_key() -> KeyPair:
    """A clear Ed25519 client key in OpenSSH format."""
    return _pair(ed25519.Ed25519PrivateKey.generate(), serialization.PrivateFormat.OpenSSH)


@pytest.fixture(scope="session")
def rsa_key() -> KeyPair:
    """An RSA client key in PEM (PKCS#1), encrypted with :data:`KEY_PASSPHRASE`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _pair(key, serialization.PrivateFormat.TraditionalOpenSSL, KEY_PASSPHRASE)


@pytest.fixture
def svc_array() -> SimulatedArray:
    """Three pools, 120 volumes, two nodes (each 2 FC + 2 Ethernet ports), 10 drives (one spare)."""
    return SimulatedArray(name="svc-sim", pools=3, volumes=120, nodes=2, disks_per_pool=3, seed=11)


@pytest.fixture
def ssh_sim(svc_array, tmp_path, ed25519_key, rsa_key):
    """``svc_array`` behind the SSH CLI on a free loopback port: password and both test keys log in."""
    front = SshFrontEnd(svc_array, username=SSH_USER, password=SSH_PASSWORD,
                        authorized_keys=[ed25519_key.public, rsa_key.public],
                        state_dir=str(tmp_path / "ssh-sim")).start()  # fmt: skip
    yield front
    front.stop()


@pytest.fixture
def start_ssh_sim(svc_array, tmp_path):
    """A factory of more front ends (on ``svc_array`` unless given another array, each with its own
    state dir); all stopped afterwards."""
    started: list[SshFrontEnd] = []

    def start(name: str, array: SimulatedArray | None = None, **kwargs) -> SshFrontEnd:
        kwargs.setdefault("username", SSH_USER)
        kwargs.setdefault("state_dir", str(tmp_path / name))
        front = SshFrontEnd(array or svc_array, **kwargs).start()
        started.append(front)
        return front

    yield start
    for front in started:
        front.stop()


def svc_body(front: SshFrontEnd, **ssh) -> dict:
    """A registration body for ``ibm svc_ssh`` reaching ``front`` with its host key pinned; ``ssh`` keys
    override the block's (None removes one)."""
    body = front.registration_body(**ssh)
    body["ssh"] = {k: v for k, v in {**body["ssh"], **ssh}.items() if v is not None}
    return body
