"""Sanic application serving the diagnostic API.

``GET /api/diagnostics/<conversation id>`` returns the state of the latest
diagnostic of a conversation (answers, current question, progress) and, once
complete, its result; 404 for an unknown conversation. Read-only: the action
server writes diagnostics, this app only reads them.
"""

from __future__ import annotations

from functools import lru_cache

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot import diagnostics
from bot.loader import read_questionnaire

MAX_CONVERSATION_ID_LENGTH = 255


@lru_cache(maxsize=1)
def _total_questions() -> int:
    return read_questionnaire().total


def create_app(name: str = "faire_alliance_web") -> Sanic:
    """Build the app (no database access until a request arrives)."""
    app = Sanic(name)

    @app.get("/health")
    async def health(_request: Request) -> HTTPResponse:
        return json({"status": "ok"})

    @app.get("/api/diagnostics/<conversation_id:str>")
    async def diagnostic_state(_request: Request, conversation_id: str) -> HTTPResponse:
        if len(conversation_id) > MAX_CONVERSATION_ID_LENGTH:
            return json({"error": "identifiant de conversation trop long"}, status=400)
        state = diagnostics.get_state(conversation_id, _total_questions())
        if state is None:
            return json({"error": "aucun diagnostic pour cette conversation"}, status=404)
        return json(state, ensure_ascii=False)

    return app
