"""Payload encryption: the AES-GCM codec, key rotation, encrypted failures, Temporal's state."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from google.protobuf import json_format
from google.protobuf.json_format import MessageToJson
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.failure.v1 import Failure
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.messages import ARRIVED_UNENCRYPTED
from domain.orders import OrderResult, OrderStatus, ShippingAddress, order_workflow_id
from domain.visibility import SEARCH_ATTRIBUTES
from ops.submissions import submit
from persistence.database import Database
from persistence.demo_catalogue import seed_demo_catalogue
from persistence.migrate import downgrade, upgrade
from persistence.transactions.privacy import export_customer_data
from runtime.codec_server import codec_app
from runtime.encryption import (
    ENCODING,
    AesGcmPayloadCodec,
    KeyRing,
    KeyRingError,
    encrypted_data_converter,
)
from runtime.settings import Settings
from runtime.temporal import DEV_SERVER_STARTUP_TIMEOUT
from runtime.workers import order_worker
from tests.conftest import fresh_database, installed_binary
from tests.factories import submission

SECRET = b'{"name": "Zacharias Quellbrunn-Oberfeld"}'


async def test_payloads_are_encrypted_and_decrypt_with_the_same_ring() -> None:
    codec = AesGcmPayloadCodec(KeyRing.generate("k1"))
    plain = Payload(metadata={"encoding": b"json/plain"}, data=SECRET)
    [sealed] = await codec.encode([plain])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata["encryption-key-id"] == b"k1"
    assert b"Quellbrunn" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [plain]


async def test_the_workers_codec_marks_what_arrived_unencrypted_and_only_that() -> None:
    codec = AesGcmPayloadCodec(KeyRing.generate("k1"), mark_unencrypted=True)
    plain = Payload(metadata={"encoding": b"json/plain"}, data=SECRET)
    [sealed] = await codec.encode([plain])
    decoded_sealed, decoded_plain = await codec.decode([sealed, plain])
    assert decoded_sealed == plain
    assert decoded_plain.data == SECRET
    assert decoded_plain.metadata[ARRIVED_UNENCRYPTED] == b"1"
    assert ARRIVED_UNENCRYPTED not in plain.metadata, "the original is left as it was"
    unmarked = AesGcmPayloadCodec(KeyRing.generate("k1"))
    assert await unmarked.decode([plain]) == [plain]


async def test_a_payload_under_an_old_key_still_decodes_after_rotation() -> None:
    old = KeyRing.generate("k1")
    [sealed] = await AesGcmPayloadCodec(old).encode([Payload(data=SECRET)])
    rotated = KeyRing.parse(old.rotated("k2").serialise())
    assert rotated.current == "k2"
    codec = AesGcmPayloadCodec(rotated)
    assert (await codec.decode([sealed]))[0].data == SECRET
    [fresh] = await codec.encode([Payload(data=SECRET)])
    assert fresh.metadata["encryption-key-id"] == b"k2"
    with pytest.raises(KeyRingError, match="key 'k2', which is not in the key ring"):
        await AesGcmPayloadCodec(old).decode([fresh])


async def test_a_tampered_payload_is_refused() -> None:
    codec = AesGcmPayloadCodec(KeyRing.generate("k1"))
    [sealed] = await codec.encode([Payload(data=SECRET)])
    sealed.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    with pytest.raises(KeyRingError, match="failed authentication"):
        await codec.decode([sealed])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the key ring is empty"),
        ("k1", "expected ID:BASE64"),
        ("k1:%%%", "not base64"),
        ("k1:AAAA", "AES-256 needs 32"),
    ],
)
def test_a_bad_key_ring_is_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(KeyRingError, match=problem):
        KeyRing.parse(text)


async def test_failure_messages_are_encrypted_too() -> None:
    converter = encrypted_data_converter(KeyRing.generate("k1"))
    failure = Failure()
    await converter.encode_failure(
        ApplicationError("carrier refused Zacharias Quellbrunn-Oberfeld, Mühlgasse 9"), failure
    )
    assert "Quellbrunn" not in MessageToJson(failure)
    assert failure.message == "Encoded failure"
    decoded = await converter.decode_failure(failure)
    assert "Quellbrunn-Oberfeld" in str(decoded)


@pytest.fixture(scope="module")
async def persistent_dev_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[WorkflowEnvironment, Path]]:
    """A dev server keeping its state in a file, as the embedded default does."""
    state = tmp_path_factory.mktemp("temporal") / "temporal.db"
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=installed_binary("temporal"),
        dev_server_startup_timeout=DEV_SERVER_STARTUP_TIMEOUT,
        dev_server_database_filename=str(state),
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
    )
    yield env, state
    await env.shutdown()


async def test_no_customer_data_in_temporals_state_or_an_exported_history(
    persistent_dev_server: tuple[WorkflowEnvironment, Path], tmp_path: Path
) -> None:
    env, state = persistent_dev_server
    url = f"sqlite:///{tmp_path / 'oms.db'}"
    upgrade(url)
    db = Database(url)
    seed_demo_catalogue(db)
    ring = KeyRing.generate("k1")
    client = await Client.connect(
        env.client.service_client.config.target_host,
        data_converter=encrypted_data_converter(ring),
    )
    address = ShippingAddress(
        name="Zacharias Quellbrunn-Oberfeld",
        street="Mühlgasse 9",
        postal_code="99423",
        city="Weimar",
        country="DE",
    )
    tag = uuid.uuid4().hex[:6]
    completed = submission(f"ENC-OK-{tag}", shipping_address=address)
    declined = submission(
        f"ENC-DECL-{tag}", shipping_address=address, payment_token="tok_decline_quellbrunn"
    )
    settings = Settings(
        database_url=url,
        data_dir=tmp_path,
        carrier_sim_step_seconds=0.05,
        carrier_poll_seconds=0.05,
    )
    async with order_worker(client, db, settings):
        for order in (completed, declined):
            await submit(client, order, db)
        results = {
            order.order_id: await client.get_workflow_handle(
                order_workflow_id(order.order_id), result_type=OrderResult
            ).result()
            for order in (completed, declined)
        }
    db.dispose()
    assert results[completed.order_id].status is OrderStatus.COMPLETED
    assert results[declined.order_id].status is OrderStatus.REJECTED
    # The decline's reason travels (encrypted) through the history, without the token.
    assert results[declined.order_id].reasons == [
        "payment declined: payment token '[redacted]' was declined"
    ]

    raw = env.client  # no codec: what anyone with access to the server sees
    exported = []
    for order in (completed, declined):
        history = await raw.get_workflow_handle(order_workflow_id(order.order_id)).fetch_history()
        exported.append(history.to_json())
    text = "\n".join(exported)
    assert "Encoded failure" in text
    stored = b"".join(path.read_bytes() for path in state.parent.glob(f"{state.name}*"))
    assert completed.order_id.encode() in stored  # the state file does hold the history
    for secret in ("Quellbrunn", "Mühlgasse", "M\\u00fchlgasse", "tok_decline_quellbrunn"):
        assert secret not in text
        assert secret.encode() not in stored
    assert json.loads(exported[0])["events"]

    history = await raw.get_workflow_handle(order_workflow_id(completed.order_id)).fetch_history()
    signalled = next(
        event.workflow_execution_signaled_event_attributes.input
        for event in history.events
        if event.HasField("workflow_execution_signaled_event_attributes")
    )
    body = json_format.MessageToJson(signalled)
    async with TestClient(TestServer(codec_app(ring, "ops-token", ["http://ui"]))) as codec:
        refused = await codec.post("/decode", data=body)
        decoded = await codec.post(
            "/decode", data=body, headers={"Authorization": "Bearer ops-token"}
        )
        assert refused.status == 401
        assert "Quellbrunn-Oberfeld" in str(json_format.Parse(await decoded.text(), Payloads()))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migration_0026_encrypts_what_staff_wrote_and_0025_gets_it_back_in_plain(
    kind: str, tmp_path: Path
) -> None:
    """Rows written before staff's free text was encrypted (plaintext, JSON) are encrypted
    by the upgrade and read back the same; the downgrade writes them back in plain."""
    from tests.test_from_outside_privacy import (
        CANCEL_REASON,
        CARE_OUTCOME,
        GOODWILL_REASON,
        staff_wrote_about_lena,
        stored_plaintext,
        without_wordings,
    )

    with fresh_database(kind, tmp_path) as url:
        db = Database(url)
        seed_demo_catalogue(db)
        staff_wrote_about_lena(db)
        read_before = export_customer_data(db, "CUST-LENA")
        assert read_before is not None
        read_before.pop("exported_at")
        written = (CANCEL_REASON, CARE_OUTCOME, GOODWILL_REASON)
        assert stored_plaintext(db, *written) == []
        db.dispose()

        downgrade(url, "0025")
        db = Database(url)
        assert len(stored_plaintext(db, *written)) >= 6  # as they were before 0026
        db.dispose()

        upgrade(url)
        db = Database(url)
        assert stored_plaintext(db, *written) == []
        read_after = export_customer_data(db, "CUST-LENA")
        assert read_after is not None
        read_after.pop("exported_at")
        # The downgrade to 0025 drops the wordings of 0029-0031 (their English stays).
        assert without_wordings(read_after) == without_wordings(read_before)
        db.dispose()
