"""The codec server: lets the Temporal Web UI and CLI show decrypted payloads to operators.

``POST /encode`` and ``POST /decode`` take and return ``{"payloads": [...]}`` in
Temporal's JSON form, as the UI and ``temporal --codec-endpoint`` expect. Every
request must prove it holds the codec token, either as ``Authorization: Bearer
<token>`` (the CLI, scripts) or in the endpoint's path, ``/t/<token>/decode``
(the Web UI's per-browser codec endpoint setting). CORS allows only the
configured UI origins. Without the token the UI shows the encrypted payloads.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp_cors
import structlog
from aiohttp import web
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from runtime.encryption import AesGcmPayloadCodec, KeyRing, KeyRingError

log = structlog.get_logger(__name__)

CORS_HEADERS = ("Content-Type", "X-Namespace", "Authorization")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def load_or_create_token(path: Path) -> str:
    """The codec token kept in ``path``; a new one is written there (mode 0600) if missing."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as token_file:
        path.chmod(0o600)
        token_file.write(token)
    return token


def codec_app(ring: KeyRing, token: str, ui_origins: Sequence[str]) -> web.Application:
    """The codec server's routes, token check and CORS policy."""
    codec = AesGcmPayloadCodec(ring)

    def authorised(request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        offered = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        offered = offered or request.match_info.get("token", "")
        return bool(offered) and hmac.compare_digest(offered.encode(), token.encode())

    def endpoint(transform: Callable[[Payloads], Awaitable[Payloads]]) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            if not authorised(request):
                return web.json_response(
                    {"error": "a valid codec token is required (Bearer header or /t/<token>/)"},
                    status=401,
                )
            try:
                payloads = json_format.Parse(await request.text(), Payloads())
                result = await transform(payloads)
            except (json_format.ParseError, KeyRingError) as error:
                return web.json_response({"error": str(error)}, status=400)
            return web.Response(
                text=json_format.MessageToJson(result), content_type="application/json"
            )

        return handle

    async def encode(payloads: Payloads) -> Payloads:
        return Payloads(payloads=await codec.encode(payloads.payloads))

    async def decode(payloads: Payloads) -> Payloads:
        return Payloads(payloads=await codec.decode(payloads.payloads))

    app = web.Application()
    cors = aiohttp_cors.setup(
        app,
        defaults={
            origin: aiohttp_cors.ResourceOptions(  # type: ignore[no-untyped-call]
                allow_credentials=True, allow_headers=CORS_HEADERS, allow_methods=["POST"]
            )
            for origin in ui_origins
        },
    )
    for prefix in ("", "/t/{token}"):
        cors.add(app.router.add_post(f"{prefix}/encode", endpoint(encode)))
        cors.add(app.router.add_post(f"{prefix}/decode", endpoint(decode)))
    return app


@asynccontextmanager
async def running_codec_server(
    ring: KeyRing, token: str, ui_origins: Sequence[str], host: str, port: int
) -> AsyncIterator[str]:
    """Serve the codec on ``host:port`` for the duration of the block; yields its URL."""
    runner = web.AppRunner(codec_app(ring, token, ui_origins), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"
    log.info("codec server listening", url=url, ui_origins=list(ui_origins))
    try:
        yield url
    finally:
        await runner.cleanup()
