"""The launcher's kept-alive endpoint sessions (bot/runtime/rasa_launcher.py, fix 3), against a real local HTTP server."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor
from rasa.utils.endpoints import EndpointConfig

from bot.runtime import rasa_launcher


@pytest.fixture()
def launcher(monkeypatch: pytest.MonkeyPatch) -> None:
    """The launcher's fixes, undone after the test."""
    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.session)
    monkeypatch.setattr(MessageProcessor, "_parse_message_with_graph", MessageProcessor._parse_message_with_graph)
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    rasa_launcher.install()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def serve(port: int, peers: list[Any]) -> web.AppRunner:
    """A webhook that answers with the client's address (its source port tells the connection)."""

    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        return web.json_response({"events": [], "received": await request.json()})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def test_calls_to_an_endpoint_reuse_one_connection(launcher: None) -> None:
    async def scenario() -> None:
        port, peers = free_port(), []
        runner = await serve(port, peers)
        endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook", token="secret")
        try:
            replies = [await endpoint.request(json={"next_action": f"action_{n}"}) for n in range(5)]
            assert [reply["received"]["next_action"] for reply in replies] == [f"action_{n}" for n in range(5)]
            assert len(peers) == 5 and len(set(peers)) == 1, peers
        finally:
            await runner.cleanup()

    asyncio.run(scenario())


def test_a_restarted_server_is_reached_again(launcher: None) -> None:
    """After the server went away (its connections closed), the next call opens a new connection."""

    async def scenario() -> None:
        port, peers = free_port(), []
        endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook")
        runner = await serve(port, peers)
        await endpoint.request(json={"n": 1})
        await runner.cleanup()
        runner = await serve(port, peers)
        try:
            assert (await endpoint.request(json={"n": 2}))["received"] == {"n": 2}
            assert len(set(peers)) == 2
        finally:
            await runner.cleanup()

    asyncio.run(scenario())

