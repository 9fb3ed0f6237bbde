"""Personal data encrypted at rest: a column type that encrypts on write, decrypts on read.

Code using the models sees plaintext; the database holds
``enc:v1:<key id>:<base64 nonce+ciphertext>``. Values are encrypted with
AES-256-GCM under the key ring's current key, with the key id as associated
data, so a value cannot be moved to another key's slot unnoticed. Values
written before encryption was introduced (no prefix) read back as they are
and are encrypted the next time they are written.

:class:`EncryptedJSON` does the same for JSON documents that hold personal data.

The key ring is configured once at start-up, like logging: :func:`use_key_ring`.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Dialect, LargeBinary, Text
from sqlalchemy.types import TypeDecorator

from persistence.keys import KeyRing, KeyRingError

PREFIX = "enc:v1:"
NONCE_BYTES = 12


class _FieldCipher:
    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring
        self.ciphers = {key_id: AESGCM(key) for key_id, key in ring.keys.items()}

    def encrypt(self, plain: str) -> str:
        key_id = self.ring.current
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self.ciphers[key_id].encrypt(nonce, plain.encode(), key_id.encode())
        return f"{PREFIX}{key_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored
        key_id, _, encoded = stored.removeprefix(PREFIX).partition(":")
        cipher = self.ciphers.get(key_id)
        if cipher is None:
            raise KeyRingError(f"a column value is encrypted with unknown key {key_id!r}")
        data = base64.b64decode(encoded)
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], key_id.encode())
        except InvalidTag as error:
            raise KeyRingError(
                f"a column value under key {key_id!r} failed authentication"
            ) from error
        return plain.decode()


_cipher: _FieldCipher | None = None


def use_key_ring(ring: KeyRing) -> None:
    """Encrypt personal data with ``ring`` from now on (call once at start-up)."""
    global _cipher
    _cipher = _FieldCipher(ring)


def _configured() -> _FieldCipher:
    if _cipher is None:
        raise KeyRingError(
            "personal data cannot be read or written: no key ring configured "
            "(persistence.encrypted.use_key_ring; runtime.workers.open_database does it)"
        )
    return _cipher


def key_ring_configured() -> bool:
    """Whether :func:`use_key_ring` has been called in this process."""
    return _cipher is not None


def is_encrypted(stored: str) -> bool:
    """Whether ``stored`` (a value as the database holds it) is encrypted already."""
    return stored.startswith(PREFIX)


def encrypt_stored(stored: str) -> str:
    """``stored`` encrypted with the configured key ring, unless it is already: what a
    migration writes over a plaintext value of a column that becomes encrypted."""
    return stored if is_encrypted(stored) else _configured().encrypt(stored)


def decrypt_stored(stored: str) -> str:
    """``stored`` decrypted (a plaintext value is returned as it is): what a migration
    writes back when a column stops being encrypted."""
    return _configured().decrypt(stored)


class EncryptedText(TypeDecorator[str]):
    """Text encrypted at rest with the configured key ring."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        """Encrypt on the way in."""
        return None if value is None else _configured().encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        """Decrypt on the way out."""
        return None if value is None else _configured().decrypt(value)


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON document encrypted at rest with the configured key ring.

    Documents written before the column was encrypted (JSON text, no prefix) read back
    as they are.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """Serialise, then encrypt."""
        return None if value is None else _configured().encrypt(json.dumps(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        """Decrypt, then parse."""
        if value is None:
            return None
        if not isinstance(value, str):
            # A driver that parsed a JSON column written before encryption.
            return value
        return json.loads(_configured().decrypt(value))


class EncryptedBytes(TypeDecorator[bytes]):
    """Binary content (an e-mail, an attachment) encrypted at rest with the key ring: the
    database holds ``enc:v1:<key id>:`` followed by the nonce and the ciphertext."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        """Encrypt on the way in."""
        if value is None:
            return None
        cipher = _configured()
        key_id = cipher.ring.current
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = cipher.ciphers[key_id].encrypt(nonce, value, key_id.encode())
        return f"{PREFIX}{key_id}:".encode() + nonce + sealed

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        """Decrypt on the way out (content written unencrypted reads back as it is)."""
        if value is None:
            return None
        stored = bytes(value)
        if not stored.startswith(PREFIX.encode()):
            return stored
        key_id, _, data = stored.removeprefix(PREFIX.encode()).partition(b":")
        cipher = _configured().ciphers.get(key_id.decode())
        if cipher is None:
            raise KeyRingError(f"content is encrypted with unknown key {key_id.decode()!r}")
        try:
            return cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], key_id)
        except InvalidTag as error:
            raise KeyRingError(
                f"content under key {key_id.decode()!r} failed authentication"
            ) from error
