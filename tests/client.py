"""A small REST client for the conversation tests: talk to Rasa, read the diagnostic API."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import requests

TIMEOUT = 60


def payload(question_id: str, choice: str) -> str:
    return "/answer" + json.dumps({"question_id": question_id, "choice": choice})


@dataclass
class Client:
    rasa_url: str
    web_url: str
    api_token: str = ""

    @staticmethod
    def new_sender(prefix: str = "test") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    def say(self, sender: str, message: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata is not None:
            body["metadata"] = metadata  # what the widget adds ({"client": "widget"})
        response = requests.post(f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()

    def parse(self, text: str) -> dict[str, Any]:
        response = requests.post(
            f"{self.rasa_url}/model/parse", json={"text": text}, params={"token": self.api_token}, timeout=TIMEOUT
        )
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> dict[str, Any]:
        response = requests.get(
            f"{self.rasa_url}/conversations/{sender}/tracker", params={"token": self.api_token}, timeout=TIMEOUT
        )
        response.raise_for_status()
        return response.json()

    def diagnostic(self, sender: str) -> requests.Response:
        return requests.get(f"{self.web_url}/api/diagnostics/{sender}", timeout=TIMEOUT)


def texts(messages: list[dict[str, Any]]) -> str:
    """All the texts of a reply, joined: what the user reads."""
    return "\n".join(message.get("text", "") for message in messages if message.get("text"))


def buttons(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [button for message in messages for button in message.get("buttons") or []]


def asked_position(messages: list[dict[str, Any]]) -> str | None:
    """The « Question n/13 » marker of the last question in a reply, e.g. "5/13"."""
    marker = None
    for message in messages:
        text = message.get("text") or ""
        if text.startswith("Question "):
            marker = text.split()[1]
    return marker
