"""The web side of workshops: the trainer page, the live dashboard, its JSON, the CSV export, closing.

Everything of a workshop is reached through its secret token (``/ateliers/<token>``);
an unknown token gets a 404 that says nothing more. The workshop logic is in
bot/workshops; this module only turns it into HTTP. The pages are the templates
trainer.html, dashboard.html and workshop_not_found.html; their scripts
(trainer.js, dashboard.js) fill them from the JSON API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, html, json, raw

from bot import workshops
from bot.diagnostic.questionnaire import Questionnaire
from bot.web import pages

NO_STORE = {"Cache-Control": "no-store"}


def _labels(survey: Questionnaire) -> dict[str, dict[str, str]]:
    return {
        "doors": {door.id: door.label for door in survey.doors},
        "levels": {level.id: level.label for level in survey.levels},
        "dimensions": {dimension.id: dimension.label for dimension in survey.dimensions},
    }


def _links(code: str, token: str) -> dict[str, str]:
    return {
        "dashboard_url": workshops.dashboard_path(token),
        "export_url": f"{workshops.dashboard_path(token)}/export.csv",
        "join_url": f"/?atelier={workshops.format_code(code)}",
    }


def add_workshop_routes(app: Sanic, survey: Callable[[], Questionnaire]) -> None:
    """Register the workshop pages and API on ``app``."""

    async def found(token: str) -> workshops.WorkshopInfo | None:
        return await asyncio.to_thread(workshops.find_by_token, token)

    def by_token(handler: Callable[..., Awaitable[HTTPResponse]]) -> Callable[..., Awaitable[HTTPResponse]]:
        """The handler gets the workshop of the token; an unknown token gets a 404 and nothing else."""

        @wraps(handler)
        async def with_workshop(request: Request, token: str) -> HTTPResponse:
            workshop = await found(token)
            if workshop is None:
                return json({"error": "atelier introuvable"}, status=404)
            return await handler(request, token, workshop)

        return with_workshop

    async def dashboard_json(workshop: workshops.WorkshopInfo, token: str) -> dict[str, Any]:
        figures = await asyncio.to_thread(workshops.dashboard, workshop.id, survey())
        return {**figures, "labels": _labels(survey()), **_links(workshop.code, token)}

    @app.get("/ateliers")
    async def trainer_page(_request: Request) -> HTTPResponse:
        return html(pages.render("trainer.html"))

    @app.post("/api/ateliers")
    async def open_workshop(request: Request) -> HTTPResponse:
        body = request.json if isinstance(request.json, dict) else {}
        hours = body.get("hours")
        if hours is not None and not isinstance(hours, (int, float)):
            return json({"error": "La durée doit être un nombre d'heures."}, status=400)
        try:
            created = await asyncio.to_thread(workshops.create_workshop, body.get("title", ""), hours=hours)
        except ValueError as error:
            return json({"error": str(error)}, status=400)
        return json(
            {"title": created.title, "code": created.display_code, "expires_at": created.expires_at.isoformat(),
             **_links(created.code, created.token)},
            status=201, headers=NO_STORE, ensure_ascii=False,
        )

    @app.get("/ateliers/<token:str>")
    async def dashboard_page(_request: Request, token: str) -> HTTPResponse:
        if await found(token) is None:
            return html(pages.render("workshop_not_found.html"), status=404)
        return html(pages.render("dashboard.html"), headers=NO_STORE)

    @app.get("/api/ateliers/<token:str>")
    @by_token
    async def dashboard_data(_request: Request, token: str, workshop: workshops.WorkshopInfo) -> HTTPResponse:
        return json(await dashboard_json(workshop, token), headers=NO_STORE, ensure_ascii=False)

    @app.post("/api/ateliers/<token:str>/close")
    @by_token
    async def close(_request: Request, token: str, workshop: workshops.WorkshopInfo) -> HTTPResponse:
        closed = await asyncio.to_thread(workshops.close_workshop, workshop.id)
        return json(await dashboard_json(closed, token), headers=NO_STORE, ensure_ascii=False)

    @app.post("/api/ateliers/<token:str>/keep")
    @by_token
    async def keep(request: Request, token: str, workshop: workshops.WorkshopInfo) -> HTTPResponse:
        wanted = request.json.get("keep", True) if isinstance(request.json, dict) else True
        await asyncio.to_thread(workshops.keep_results, workshop.id, bool(wanted))
        return json({"keep_results": bool(wanted)}, headers=NO_STORE)

    @app.get("/ateliers/<token:str>/export.csv")
    @by_token
    async def export(_request: Request, token: str, workshop: workshops.WorkshopInfo) -> HTTPResponse:
        body = await asyncio.to_thread(workshops.export_csv_bytes, workshop.id, survey())
        disposition = f'attachment; filename="{workshops.export_filename(workshop)}"'
        return raw(body, content_type="text/csv; charset=utf-8",
                   headers={**NO_STORE, "Content-Disposition": disposition})
