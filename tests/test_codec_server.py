"""The codec server: only the token holder reads plaintext, only the UI origin may call it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from runtime.codec_server import codec_app
from runtime.encryption import AesGcmPayloadCodec, KeyRing, encrypted_data_converter

TOKEN = "operator-token-123"
UI = "http://localhost:8233"
UI_ORIGINS = [UI, "http://127.0.0.1:8233"]
OLD = KeyRing.generate("k1")
RING = OLD.rotated("k2")


@pytest.fixture
async def codec_client() -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(codec_app(RING, TOKEN, UI_ORIGINS))) as client:
        yield client


async def worker_payloads(ring: KeyRing) -> str:
    """A payload as the worker writes it (pydantic JSON, then encrypted), in the UI's JSON."""
    converter = encrypted_data_converter(ring)
    [plain] = converter.payload_converter.to_payloads([{"name": "Zacharias Quellbrunn"}])
    [sealed] = await AesGcmPayloadCodec(ring).encode([plain])
    return json_format.MessageToJson(Payloads(payloads=[sealed]))


def decoded_text(body: str) -> str:
    payloads = json_format.Parse(body, Payloads())
    return b"".join(p.data for p in payloads.payloads).decode()


async def test_decode_without_a_valid_token_is_refused(codec_client: TestClient[Any, Any]) -> None:
    body = await worker_payloads(RING)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = await codec_client.post("/decode", data=body, headers=headers)
        assert response.status == 401
    response = await codec_client.post("/t/wrong/decode", data=body)
    assert response.status == 401


async def test_the_token_holder_reads_what_the_worker_wrote_even_under_an_old_key(
    codec_client: TestClient[Any, Any],
) -> None:
    for ring in (RING, OLD):
        body = await worker_payloads(ring)
        assert "Quellbrunn" not in body
        bearer = await codec_client.post(
            "/decode", data=body, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        in_path = await codec_client.post(f"/t/{TOKEN}/decode", data=body)
        assert bearer.status == in_path.status == 200
        assert "Zacharias Quellbrunn" in decoded_text(await bearer.text())
        assert "Zacharias Quellbrunn" in decoded_text(await in_path.text())


async def test_encode_then_decode_round_trips(codec_client: TestClient[Any, Any]) -> None:
    plain = json_format.MessageToJson(Payloads(payloads=[Payload(data=b"hello")]))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    encoded = await (await codec_client.post("/encode", data=plain, headers=headers)).text()
    assert "hello" not in encoded
    decoded = await codec_client.post("/decode", data=encoded, headers=headers)
    assert decoded_text(await decoded.text()) == "hello"


async def test_garbage_is_a_clear_bad_request(codec_client: TestClient[Any, Any]) -> None:
    response = await codec_client.post(
        "/decode", data="{not json", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status == 400
    assert "error" in await response.json()


@pytest.mark.parametrize(("origin", "allowed"), [(UI, True), ("https://evil.example", False)])
async def test_cors_lets_only_the_ui_origin_in(
    codec_client: TestClient[Any, Any], origin: str, allowed: bool
) -> None:
    preflight = await codec_client.options(
        "/decode",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace,authorization",
        },
    )
    if allowed:
        assert preflight.status == 200
        assert preflight.headers["Access-Control-Allow-Origin"] == UI
        assert preflight.headers["Access-Control-Allow-Credentials"] == "true"
    else:
        assert preflight.status == 403
        assert "Access-Control-Allow-Origin" not in preflight.headers
