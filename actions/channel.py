"""What the actions send to the web widget besides text: questionnaire progress and report links.

The widget (bot/web/static/widget.js) reads ``{"custom": {"progress": ...}}``
messages to draw its progress bar, resolves links that start with ``/``
against its server, and shows image messages. REST clients get the same
messages and may ignore them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.settings import get_settings


def progress_message(position: int | None, total: int | None = None) -> dict[str, Any]:
    """The custom payload that shows (position and total) or hides (None) the progress bar."""
    if position is None:
        return {"progress": None}
    return {"progress": {"position": position, "total": total}}


def report_url(conversation_id: str) -> str:
    """Where the printable report of a conversation is served (relative unless PUBLIC_URL is set)."""
    # quote(safe="") also escapes the parentheses that would end a markdown link early.
    return f"{get_settings().public_url}/diagnostics/{quote(conversation_id, safe='')}"


def chart_url(conversation_id: str) -> str:
    """The SVG chart of the four dimensions, sent as an image with the result."""
    return f"{report_url(conversation_id)}/chart.svg"
