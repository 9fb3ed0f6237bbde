"""The key ring: named AES-256 keys shared by payload encryption and encryption at rest.

The *current* key encrypts; every key in the ring decrypts (the key id is
stored with each encrypted value), so keys can be rotated by adding a new
current key and keeping the old ones while data encrypted under them remains.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
"""AES-256."""


class KeyRingError(ValueError):
    """A key ring that cannot be used; the message says what is wrong with it."""


@dataclass(frozen=True)
class KeyRing:
    """Named 256-bit keys; ``current`` encrypts, all decrypt."""

    current: str
    keys: Mapping[str, bytes]

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise KeyRingError(f"current key {self.current!r} is not in the key ring")
        for key_id, key in self.keys.items():
            if len(key) != KEY_BYTES:
                raise KeyRingError(
                    f"key {key_id!r} has {len(key)} bytes; AES-256 needs {KEY_BYTES}"
                )

    @classmethod
    def parse(cls, text: str) -> KeyRing:
        """Read ``id:base64key,id:base64key``; the first key is the current one."""
        entries = [entry.strip() for entry in text.split(",") if entry.strip()]
        if not entries:
            raise KeyRingError("the key ring is empty")
        keys: dict[str, bytes] = {}
        for entry in entries:
            key_id, separator, encoded = entry.partition(":")
            if not separator or not key_id:
                raise KeyRingError(f"key ring entry {key_id or entry[:8]!r}...: expected ID:BASE64")
            try:
                keys[key_id] = base64.b64decode(encoded, validate=True)
            except ValueError as error:
                raise KeyRingError(f"key {key_id!r}: not base64") from error
        return cls(current=entries[0].partition(":")[0], keys=keys)

    def serialise(self) -> str:
        """The ``id:base64key,...`` form, current key first (for a key file or secret)."""
        order = [self.current, *(key_id for key_id in self.keys if key_id != self.current)]
        return ",".join(
            f"{key_id}:{base64.b64encode(self.keys[key_id]).decode()}" for key_id in order
        )

    def rotated(self, new_id: str) -> KeyRing:
        """A ring with a fresh current key ``new_id`` that still holds every older key."""
        if new_id in self.keys:
            raise KeyRingError(f"key id {new_id!r} is already in the key ring")
        return KeyRing(current=new_id, keys={new_id: AESGCM.generate_key(256), **self.keys})

    @classmethod
    def generate(cls, key_id: str = "k1") -> KeyRing:
        """A ring with one fresh key."""
        return cls(current=key_id, keys={key_id: AESGCM.generate_key(256)})


def load_or_create_key_file(path: Path) -> KeyRing:
    """The key ring in ``path``; a new one is written there (mode 0600) when it is missing.

    This is how the embedded default gets its key: generated once, kept beside
    Temporal's state, never committed.
    """
    if path.exists():
        return KeyRing.parse(path.read_text(encoding="utf-8"))
    ring = KeyRing.generate(f"k{secrets.token_hex(3)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as key_file:
        key_file.write(ring.serialise())
    return ring


def link_secrets(ring: KeyRing) -> list[bytes]:
    """Secrets that sign links sent to customers (an unsubscribe link), derived from the
    key ring: the current key's first, so links signed before a rotation keep working."""
    ordered = [ring.keys[ring.current]] + [k for i, k in ring.keys.items() if i != ring.current]
    return [hashlib.sha256(b"oms-customer-links:" + key).digest() for key in ordered]


def link_token(secret: bytes, subject: str) -> str:
    """The token of a link sent to a customer about ``subject`` (``unsubscribe:CUST-1``,
    ``survey:12``): it proves the link was ours."""
    return hmac.new(secret, subject.encode(), hashlib.sha256).hexdigest()[:32]


def link_token_valid(secrets: list[bytes], subject: str, token: str) -> bool:
    """Whether ``token`` is the token of ``subject`` under one of the ``secrets``."""
    if not token.isascii():  # never ours, and compare_digest refuses to compare such text
        return False
    return any(hmac.compare_digest(link_token(secret, subject), token) for secret in secrets)
