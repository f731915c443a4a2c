"""Sanic application: the demo page, the widget, the report pages and the diagnostic API.

- ``GET /``: the demo page with the widget (templates/index.html); ``/widget.js`` and
  ``/widget.css``: the widget to embed with one ``<script>`` tag; ``/static/*``: the
  other assets (scripts, stylesheets, icon). Every HTML page is a Jinja2 template
  rendered by pages.py.
- ``POST /webhooks/rest/webhook``: forwarded to Rasa's REST channel, so the
  widget talks to one server only (in production the load balancer routes it).
- ``GET /diagnostics/<conversation id>``: the printable report (HTML), and
  ``/diagnostics/<conversation id>/chart.svg``: its chart, also sent in the chat.
- ``GET /api/diagnostics/<conversation id>``: the state as JSON.
- ``/ateliers``: workshops (trainer page, dashboard, export), see workshop_routes.py.
- ``/admin``: the owner's console (404 until a password is set), see console_routes.py.

Read-only on the database: the action server writes diagnostics.
"""

from __future__ import annotations

import asyncio
import hmac
import json as jsonlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import aiohttp
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, empty, file, html, json, raw

from bot.analytics.projector import project_periodically
from bot.diagnostic.questionnaire import Questionnaire
from bot.settings import get_settings
from bot.store import diagnostics, privacy
from bot.store.loader import read_questionnaire
from bot.web import pages, report
from bot.web.console_routes import add_console_routes
from bot.web.ratelimit import Limit, MemoryLimits, RedisLimits, redis_client, shared_hash_key
from bot.web.workshop_routes import add_workshop_routes

logger = logging.getLogger(__name__)

MAX_CONVERSATION_ID_LENGTH = 255
STATIC_DIR = Path(__file__).resolve().parent / "static"
REST_WEBHOOK = "/webhooks/rest/webhook"
RASA_TIMEOUT_SECONDS = 60

# Our pages load nothing from elsewhere and run no inline code: the strictest policy that works.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
TOO_LONG = (
    "Votre message est trop long ({length} caractères) : {limit} au plus. Pouvez-vous le raccourcir ?"
)
UNAVAILABLE = (
    "L'assistant est momentanément indisponible : vos réponses sont gardées. Renvoyez votre message dans un instant."
)
SLOW_DOWN = "Vous envoyez des messages très rapprochés : patientez quelques secondes, puis réessayez."
# The action « supprimer mes données » ends its reply with {"custom": {"erased": true}}.
ERASED_MARKER = b'"erased"'
# The widget's files and the chat endpoint are used by other sites' pages.
EMBEDDABLE_PATHS = ("/widget.js", "/widget.css", REST_WEBHOOK)


# Files served at fixed addresses (the rest of bot/web/static is under /static/).
FIXED_FILES = {
    "/favicon.ico": ("favicon.svg", "image/svg+xml"),
    "/widget.js": ("widget.js", "text/javascript; charset=utf-8"),
    "/widget.css": ("widget.css", "text/css; charset=utf-8"),
}


def _file_handler(path: Path, mime_type: str) -> Callable[[Request], Awaitable[HTTPResponse]]:
    async def serve(_request: Request) -> HTTPResponse:
        return await file(path, mime_type=mime_type)

    return serve


@lru_cache(maxsize=1)
def _questionnaire() -> Questionnaire:
    return read_questionnaire()


async def _state(conversation_id: str) -> dict[str, Any] | None:
    """The diagnostic state of a conversation, or None (also for an id too long to be stored)."""
    if len(conversation_id) > MAX_CONVERSATION_ID_LENGTH:
        return None
    # The database call is blocking: keep the event loop free for other requests.
    return await asyncio.to_thread(diagnostics.get_state, conversation_id, _questionnaire().total)


async def _rate_limited(app: Sanic, request: Request, sender: str) -> float:
    """Seconds to wait if this conversation or this address sends too fast, else 0."""
    address = request.remote_addr or request.ip or "unknown"
    # Only a keyed hash of the address is used, as a key that lives as long as its window: never stored.
    address_key = hmac.new(app.ctx.address_hash_key, address.encode(), "sha256").hexdigest()
    return await app.ctx.rate_limits.wait_time(sender, address_key)


def _relay_limits() -> list[Limit]:
    """Per conversation, then per address (the order of the keys given to ``wait_time``)."""
    settings = get_settings()
    return [Limit("conversation", *settings.conversation_rate), Limit("address", *settings.address_rate)]


async def _share_rate_limits(app: Sanic, url: str) -> None:
    """Count in Redis, with the other web apps (RATE_LIMIT_STORE_URL), instead of in this process."""
    from redis.exceptions import RedisError

    client = redis_client(url)
    app.ctx.rate_limit_redis = client
    app.ctx.rate_limits = RedisLimits(client, _relay_limits())
    try:
        app.ctx.address_hash_key = await shared_hash_key(client)
    except (RedisError, OSError) as error:
        logger.warning("Redis unreachable at start (%s): addresses are hashed with this process's own key", error)


async def _erase_conversation_if_asked(sender: str, body: bytes) -> None:
    """After « supprimer mes données »: Rasa has saved the turn, so its stored conversation can go now."""
    try:
        messages = jsonlib.loads(body)
    except ValueError:
        return
    if any(isinstance(m, dict) and isinstance(m.get("custom"), dict) and m["custom"].get("erased") is True
           for m in messages if isinstance(messages, list)):
        await asyncio.to_thread(privacy.erase_tracker, sender)


async def _action_server_up(app: Sanic) -> bool:
    """Whether the action server answers its health check (an empty reply can be normal, e.g. /restart)."""
    health = get_settings().action_server_url.rsplit("/webhook", 1)[0] + "/health"
    try:
        async with app.ctx.rasa.get(health, timeout=aiohttp.ClientTimeout(total=1.5)) as response:
            return response.status == 200
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return False


def _allowed_origin(origin: str | None) -> str | None:
    """The value of Access-Control-Allow-Origin for a request from ``origin``, if it is allowed."""
    allowed = get_settings().widget_origins
    if "*" in allowed:
        return "*"
    return origin if origin in allowed else None


def create_app(name: str = "faire_alliance_web") -> Sanic:
    """Build the app (no database access until a request arrives)."""
    app = Sanic(name)
    settings = get_settings()
    app.config.REQUEST_MAX_SIZE = 64 * 1024
    app.config.PROXIES_COUNT = settings.proxies_count
    app.ctx.rate_limits = MemoryLimits(_relay_limits())
    app.ctx.address_hash_key = secrets.token_bytes(32)
    app.ctx.rate_limit_redis = None

    @app.listener("before_server_start")
    async def open_sessions(app_: Sanic, _loop: Any) -> None:
        app_.ctx.rasa = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=RASA_TIMEOUT_SECONDS))
        if settings.rate_limit_store_url:
            await _share_rate_limits(app_, settings.rate_limit_store_url)

    @app.listener("after_server_start")
    async def start_projection(app_: Sanic, _loop: Any) -> None:
        # Rasa's raw events become the analytics rows every few seconds (bot/analytics, docs/analytics.md).
        if settings.analytics_interval > 0:
            app_.add_task(project_periodically(settings.analytics_interval), name="analytics_projection")

    @app.listener("after_server_stop")
    async def close_sessions(app_: Sanic, _loop: Any) -> None:
        await app_.ctx.rasa.close()
        if app_.ctx.rate_limit_redis is not None:
            await app_.ctx.rate_limit_redis.close()

    @app.on_response
    async def add_headers(request: Request, response: HTTPResponse) -> None:
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        if request.path in EMBEDDABLE_PATHS:
            origin = _allowed_origin(request.headers.get("origin"))
            if origin:
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers["Vary"] = "Origin"
            response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"

    @app.get("/health")
    async def health(_request: Request) -> HTTPResponse:
        return json({"status": "ok"})

    @app.get("/")
    async def demo_page(_request: Request) -> HTTPResponse:
        return html(pages.render("index.html"))

    for path, (file_name, mime_type) in FIXED_FILES.items():
        app.add_route(_file_handler(STATIC_DIR / file_name, mime_type), path, methods=["GET"], name=f"file_{file_name}")

    app.static("/static", str(STATIC_DIR), name="static")
    add_workshop_routes(app, _questionnaire)
    add_console_routes(app, _questionnaire)

    @app.options(REST_WEBHOOK)
    async def chat_preflight(_request: Request) -> HTTPResponse:
        response = empty()
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
        return response

    @app.post(REST_WEBHOOK)
    async def chat(request: Request) -> HTTPResponse:
        try:
            incoming = request.json
        except Exception:  # noqa: BLE001 - Sanic raises its own error types for a body that is not JSON
            incoming = None
        if not isinstance(incoming, dict) or not isinstance(incoming.get("message"), str):
            return json({"error": "attendu : {\"sender\": \"…\", \"message\": \"…\"}"}, status=400)
        sender = incoming.get("sender")
        if not isinstance(sender, str) or not 0 < len(sender) <= MAX_CONVERSATION_ID_LENGTH:
            return json({"error": "identifiant de conversation manquant ou trop long"}, status=400)
        settings = get_settings()
        if len(incoming["message"]) > settings.max_message_chars:
            # Answered here, as the bot would: Rasa never sees it, the conversation is untouched.
            text = TOO_LONG.format(length=len(incoming["message"]), limit=settings.max_message_chars)
            return json([{"recipient_id": sender, "text": text}], ensure_ascii=False)
        waiting = await _rate_limited(app, request, sender)
        if waiting:
            return json([{"recipient_id": sender, "text": SLOW_DOWN}], status=429, ensure_ascii=False,
                        headers={"Retry-After": str(max(1, round(waiting)))})
        try:
            async with app.ctx.rasa.post(
                f"{settings.rasa_url}{REST_WEBHOOK}", data=request.body, headers={"Content-Type": "application/json"},
            ) as upstream:
                body = await upstream.read()
                status = upstream.status
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return json({"error": "l'assistant ne répond pas pour le moment"}, status=503)
        if status == 200 and ERASED_MARKER in body:
            await _erase_conversation_if_asked(sender, body)
        if status == 200 and body.strip() == b"[]" and not await _action_server_up(app):
            # Rasa answers nothing when it cannot reach the action server; the user message is kept in the
            # tracker, and the same message sent again once the server is back goes on normally.
            return json([{"recipient_id": sender, "text": UNAVAILABLE}], ensure_ascii=False)
        return raw(body, status=status, content_type="application/json")

    @app.get("/api/diagnostics/<conversation_id:str>")
    async def diagnostic_state(_request: Request, conversation_id: str) -> HTTPResponse:
        if len(conversation_id) > MAX_CONVERSATION_ID_LENGTH:
            return json({"error": "identifiant de conversation trop long"}, status=400)
        state = await _state(conversation_id)
        if state is None:
            return json({"error": "aucun diagnostic pour cette conversation"}, status=404)
        return json(state, ensure_ascii=False)

    @app.get("/diagnostics/<conversation_id:str>")
    async def report_page(_request: Request, conversation_id: str) -> HTTPResponse:
        state = await _state(conversation_id)
        if state is None:
            return html(report.render_not_found(conversation_id), status=404)
        return html(report.render_report(state, _questionnaire()))

    @app.get("/diagnostics/<conversation_id:str>/chart.svg")
    async def report_chart(_request: Request, conversation_id: str) -> HTTPResponse:
        state = await _state(conversation_id)
        if state is None or not state.get("dimensions"):
            return json({"error": "aucun résultat pour cette conversation"}, status=404)
        chart = report.render_dimension_chart(state["dimensions"], _questionnaire(), standalone=True)
        return raw(chart.encode("utf-8"), content_type="image/svg+xml; charset=utf-8")

    return app
