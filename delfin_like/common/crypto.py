"""Encryption of stored secrets with Fernet (AES-128-CBC + HMAC-SHA256).

Keys come from ``[security] fernet_keys`` or, when that is empty, from the key
file (one key per line). The first key encrypts; every key decrypts
(MultiFernet), so a new key can be put first and old rows still read.
"""

import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from oslo_log import log as logging

from delfin_like.common import exception
from delfin_like.conf import CONF

LOG = logging.getLogger(__name__)

# fields of an access block that are secrets: encrypted at rest, never shown
SECRET_FIELDS = ("password", "community", "auth_key", "privacy_key", "private_key")

_cipher: MultiFernet | None = None


def key_file_path() -> str:
    return CONF.security.fernet_key_file or os.path.join(CONF.state_path, "fernet.keys")


def ensure_key_file() -> str:
    """Create the key file with one new key (mode 0600) unless it exists; return its path."""
    path = key_file_path()
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(Fernet.generate_key().decode() + "\n")
        LOG.info("Created a new Fernet key file at %s", path)
    return path


def _load_keys() -> list[str]:
    keys = [k.strip() for k in CONF.security.fernet_keys if k.strip()]
    if keys:
        return keys
    path = key_file_path()
    try:
        with open(path) as f:
            keys = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    except OSError as e:
        raise exception.CryptoError(f"no Fernet key configured and key file {path} unreadable ({e.strerror})")
    if not keys:
        raise exception.CryptoError(f"key file {path} holds no key")
    return keys


def reset() -> None:
    """Forget the loaded keys (tests and key rotation)."""
    global _cipher
    _cipher = None


def _get_cipher() -> MultiFernet:
    global _cipher
    if _cipher is None:
        try:
            _cipher = MultiFernet([Fernet(k.encode()) for k in _load_keys()])
        except ValueError as e:
            raise exception.CryptoError(f"invalid Fernet key: {e}")
    return _cipher


def encrypt(plaintext: str) -> str:
    return _get_cipher().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _get_cipher().decrypt(token.encode()).decode()
    except InvalidToken:
        raise exception.CryptoError("no configured key decrypts it (was the key changed?)")


def encrypt_block(block: dict | None) -> dict | None:
    """Copy of an access block with every secret field encrypted."""
    if block is None:
        return None
    out = dict(block)
    for field in SECRET_FIELDS:
        if out.get(field) is not None:
            out[field] = encrypt(str(out[field]))
    return out


def decrypt_block(block: dict | None) -> dict | None:
    if block is None:
        return None
    out = dict(block)
    for field in SECRET_FIELDS:
        if out.get(field) is not None:
            out[field] = decrypt(out[field])
    return out


def rotate(token: str) -> str:
    """One stored secret re-encrypted under the first key (MultiFernet.rotate decrypts with any
    configured key and encrypts with the first, so after rotating every secret the old keys can go).

    :raises CryptoError: no configured key decrypts it.
    """
    try:
        return _get_cipher().rotate(token.encode()).decode()
    except InvalidToken:
        raise exception.CryptoError("no configured key decrypts a stored secret")


def rotate_block(block: dict | None) -> dict | None:
    """Copy of a stored access block with every secret re-encrypted under the first key (:func:`rotate`).

    :raises CryptoError: no configured key decrypts a secret (nothing is written then).
    """
    if block is None:
        return None
    out = dict(block)
    for field in SECRET_FIELDS:
        if out.get(field) is not None:
            try:
                out[field] = rotate(out[field])
            except exception.CryptoError:
                raise exception.CryptoError(f"no configured key decrypts a stored {field}")
    return out


def redact_block(block: dict | None) -> dict | None:
    """Copy of an access block without its secret fields, for responses and logs."""
    if block is None:
        return None
    return {k: v for k, v in block.items() if k not in SECRET_FIELDS}
