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

import secrets
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from domain.messages import ARRIVED_UNENCRYPTED
from persistence.keys import KeyRing, KeyRingError

__all__ = ["AesGcmPayloadCodec", "KeyRing", "KeyRingError", "encrypted_data_converter"]

ENCODING = b"binary/encrypted"
"""Payload ``encoding`` of an encrypted payload."""
KEY_ID_METADATA = "encryption-key-id"
"""Payload metadata naming the key that encrypted it."""
NONCE_BYTES = 12


class AesGcmPayloadCodec(PayloadCodec):
    """Encrypts each payload whole (metadata included) with the ring's current key.

    With ``mark_unencrypted``, a payload that arrives in clear (sent by a client
    without this codec) is passed on with the metadata
    :data:`domain.messages.ARRIVED_UNENCRYPTED`, so the order workflow can refuse
    an order document whose personal data went into the history unencrypted.
    """

    def __init__(self, ring: KeyRing, *, mark_unencrypted: bool = False) -> None:
        self._ring = ring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in ring.keys.items()}
        self._mark_unencrypted = mark_unencrypted

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
                decoded.append(self._arrived_in_clear(payload))
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

    def _arrived_in_clear(self, payload: Payload) -> Payload:
        if not self._mark_unencrypted:
            return payload
        marked = Payload()
        marked.CopyFrom(payload)
        marked.metadata[ARRIVED_UNENCRYPTED] = b"1"
        return marked


def encrypted_data_converter(ring: KeyRing, *, allow_plaintext: bool = False) -> DataConverter:
    """Pydantic payloads, encrypted; failure messages and traces encrypted as well.

    Payloads that arrive unencrypted are marked (and order documents among them
    refused by the workflow) unless ``allow_plaintext`` (development only).
    """
    return DataConverter(
        payload_converter_class=pydantic_data_converter.payload_converter_class,
        payload_codec=AesGcmPayloadCodec(ring, mark_unencrypted=not allow_plaintext),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
