"""Security of the running servers: Rasa's HTTP API needs its token; the chat channel stays open; Rasa and the
action server cannot be reached from another machine."""

from __future__ import annotations

import pytest
import requests

from bot.runtime.stack import Stack
from tests.client import TIMEOUT, Client
from tests.sockets import assert_listens_on_loopback_only


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/status"), ("get", "/conversations/someone/tracker"), ("post", "/model/parse"),
     ("post", "/conversations/someone/tracker/events"), ("get", "/domain")],
)
def test_rasas_http_api_refuses_requests_without_the_token(client: Client, method: str, path: str) -> None:
    for params in ({}, {"token": "not-the-token"}):
        response = requests.request(method, client.rasa_url + path, params=params, json={"text": "x"}, timeout=TIMEOUT)
        assert response.status_code in (401, 403), (path, params, response.status_code)


def test_the_token_opens_the_api_and_the_channel_needs_none(client: Client) -> None:
    assert requests.get(f"{client.rasa_url}/status", params={"token": client.api_token}, timeout=TIMEOUT).ok
    reply = requests.post(f"{client.rasa_url}/webhooks/rest/webhook", json={"sender": client.new_sender(),
                          "message": "bonjour"}, timeout=TIMEOUT)
    assert reply.ok and reply.json()


def test_rasa_and_the_action_server_listen_on_loopback_only(stack: Stack) -> None:
    # The action server has no authentication, and Rasa's chat channel bypasses the relay's limits.
    for name in ("rasa", "actions"):
        assert_listens_on_loopback_only(name, stack.processes[name].pid)
