"""Encryption of everything the workers hand to Temporal: AES-GCM with a key ring.

Every payload (workflow and activity inputs and results, signals, updates,
queries, memos, summaries) is encrypted by :class:`AesGcmPayloadCodec`, and the
failure converter moves failure messages and stack traces into an encoded
payload too, so Temporal's history holds no plaintext business data.

Keys have ids. The key ring's *current* key encrypts; every key in the ring
decrypts (the key id travels in the payload's metadata), so a key can be
rotated by adding a new current key while keeping the old one for the
histories and running orders that still carry it.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

ENCODING = b"binary/encrypted"
"""Payload ``encoding`` of an encrypted payload."""
KEY_ID_METADATA = "encryption-key-id"
"""Payload metadata naming the key that encrypted it."""
KEY_BYTES = 32
"""AES-256."""
NONCE_BYTES = 12


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


class AesGcmPayloadCodec(PayloadCodec):
    """Encrypts each payload whole (metadata included) with the ring's current key."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in ring.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encrypt every payload."""
        key_id = self._ring.current
        cipher = self._ciphers[key_id]
        encoded = []
        for payload in payloads:
            nonce = secrets.token_bytes(NONCE_BYTES)
            sealed = cipher.encrypt(nonce, payload.SerializeToString(), key_id.encode())
            encoded.append(
                Payload(
                    metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id.encode()},
                    data=nonce + sealed,
                )
            )
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decrypt encrypted payloads with the key named in them; pass others through."""
        decoded = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                decoded.append(payload)
                continue
            key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode()
            cipher = self._ciphers.get(key_id)
            if cipher is None:
                raise KeyRingError(
                    f"payload encrypted with key {key_id!r}, which is not in the key ring "
                    f"(known: {', '.join(sorted(self._ciphers))})"
                )
            nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
            try:
                plain = cipher.decrypt(nonce, sealed, key_id.encode())
            except InvalidTag as error:
                raise KeyRingError(f"payload under key {key_id!r} failed authentication") from error
            decoded.append(Payload.FromString(plain))
        return decoded


def encrypted_data_converter(ring: KeyRing) -> DataConverter:
    """Pydantic payloads, encrypted; failure messages and traces encrypted as well."""
    return DataConverter(
        payload_converter_class=pydantic_data_converter.payload_converter_class,
        payload_codec=AesGcmPayloadCodec(ring),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def describe(ring: KeyRing) -> str:
    """Key ids for logs, never the keys: ``current k2; also k1``."""
    others = sorted(key_id for key_id in ring.keys if key_id != ring.current)
    return json.dumps({"current": ring.current, "others": others})
