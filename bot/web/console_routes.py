"""The owner's console at ``/admin``: a Sanic blueprint over bot.console, behind a password.

Without ``ADMIN_PASSWORD_HASH`` every ``/admin`` address answers the same 404 as an unknown page.
With it, every page and export needs the session cookie (a page without it redirects to the login
page; a POST without it gets 403), and every POST needs its form's CSRF token (else 403). How the
session, the tokens and the lockout work: console_auth.py. The figures come from bot.console and are
rendered by the ``console_*.html`` templates, escaped, under the same Content-Security-Policy as every
page. Nothing shown or exported names a conversation.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from sanic import Blueprint, Sanic
from sanic.exceptions import NotFound
from sanic.request import Request
from sanic.response import HTTPResponse, html, raw, redirect

from bot.console import csv_export, figures, funnel, inbox, listening
from bot.console.nlu_export import export_yaml, training_data
from bot.console.password import verify_password
from bot.console.period import Period, PeriodError, default_period, local_date, parse_period
from bot.console.refresh import refresh
from bot.diagnostic.questionnaire import Questionnaire
from bot.settings import get_settings
from bot.store.db import session_scope
from bot.web import console_auth as auth
from bot.web import pages
from bot.web.console_views import horizontal_bars, label_choices, label_names, overview_view, percent_text

PREFIX = "/admin"
HOME = f"{PREFIX}/vue-ensemble"
LOGIN = f"{PREFIX}/connexion"
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}
NAVIGATION = (("vue-ensemble", "Vue d'ensemble"), ("entonnoir", "Entonnoir"), ("boite", "Boîte de réception"),
              ("lacunes", "Questions sans réponse"), ("avis", "Avis"), ("exports", "Exports"))
CSV_EXPORTS = {"vue-ensemble": "vue d'ensemble", "entonnoir": "entonnoir", "lacunes": "questions sans réponse",
               "avis": "avis"}
REFUSED_LOGIN = "Ce mot de passe n'est pas le bon."
FORBIDDEN = "Ce formulaire a expiré ou ne vient pas de la console : rechargez la page, puis recommencez."

Handler = Callable[..., Awaitable[HTTPResponse]]


def _key() -> bytes | None:
    stored = get_settings().admin_password_hash
    return auth.signing_key(stored) if stored else None


def _set_cookie(request: Request, response: HTTPResponse, name: str, value: str, max_age: int) -> None:
    response.cookies[name] = value
    cookie = response.cookies[name]
    cookie["path"] = auth.COOKIE_PATH
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["max-age"] = max_age
    if request.scheme == "https":  # behind the HTTPS proxy too (PROXIES_COUNT makes Sanic read X-Forwarded-Proto)
        cookie["secure"] = True


def _page(template: str, status: int = 200, **context: Any) -> HTTPResponse:
    return html(pages.render(template, **context), status=status, headers=PRIVATE)


def _form(request: Request, name: str) -> str:
    value = request.form.get(name) if request.form else None
    return value if isinstance(value, str) else ""


def _period(request: Request) -> tuple[Period, str | None]:
    try:
        return parse_period(request.args.get("debut"), request.args.get("fin")), None
    except PeriodError as error:
        return default_period(), str(error)


def _period_query(period: Period) -> str:
    return urlencode({"debut": period.first.isoformat(), "fin": period.last.isoformat()})


def console_blueprint(app: Sanic, survey: Callable[[], Questionnaire]) -> Blueprint:
    """The console's routes, for ``app`` (whose ``ctx.address_hash_key`` keys the lockout's client hashes)."""
    blueprint = Blueprint("console", url_prefix=PREFIX)
    sessions = auth.Sessions()
    memory_guard = auth.MemoryGuard()
    shared: dict[int, auth.SharedLoginGuard] = {}

    def guard() -> auth.MemoryGuard | auth.SharedLoginGuard:
        """In Redis when the web apps share one (set at server start), else in this process."""
        client = getattr(app.ctx, "rate_limit_redis", None)
        if client is None:
            return memory_guard
        if id(client) not in shared:  # one per Redis client, so that its in-memory fallback keeps its counts
            shared[id(client)] = auth.SharedLoginGuard(client)
        return shared[id(client)]

    def client(request: Request) -> str:
        address = request.remote_addr or request.ip or "unknown"
        return hmac.new(app.ctx.address_hash_key, address.encode(), "sha256").hexdigest()

    def enabled(handler: Handler) -> Handler:
        """404 when no password is set (the console does not exist); the key is passed on."""

        @wraps(handler)
        async def checked(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            key = _key()
            if key is None:
                raise NotFound(f"Requested URL {request.path} not found")
            return await handler(request, key, *args, **kwargs)

        return checked

    def private(handler: Handler) -> Handler:
        """The session is required (GET: redirect to the login page; POST: 403), and a POST's CSRF token."""

        @enabled
        @wraps(handler)
        async def checked(request: Request, key: bytes, *args: Any, **kwargs: Any) -> HTTPResponse:
            nonce = sessions.nonce(key, request.cookies.get(auth.SESSION_COOKIE))
            if nonce is None:
                if request.method == "GET":
                    return redirect(LOGIN, status=303, headers=PRIVATE)
                return _page("console_error.html", 403, message="Votre session a expiré : reconnectez-vous.")
            if request.method == "POST" and not auth.csrf_ok(key, nonce, _form(request, "csrf")):
                return _page("console_error.html", 403, message=FORBIDDEN)
            context = {"csrf": auth.csrf_token(key, nonce), "navigation": NAVIGATION}
            return await handler(request, context, nonce, *args, **kwargs)

        return checked

    async def with_period(request: Request, context: dict[str, Any]) -> Period:
        period, error = _period(request)
        context.update(period_first=period.first.isoformat(), period_last=period.last.isoformat(),
                       period_text=period.describe(), period_error=error, period_query=_period_query(period))
        await asyncio.to_thread(refresh)
        return period

    @blueprint.get("", name="console_root")
    @enabled
    async def root(request: Request, key: bytes) -> HTTPResponse:
        signed_in = sessions.nonce(key, request.cookies.get(auth.SESSION_COOKIE)) is not None
        return redirect(HOME if signed_in else LOGIN, status=303, headers=PRIVATE)

    def login_page(request: Request, key: bytes, status: int = 200, message: str | None = None) -> HTTPResponse:
        nonce = request.cookies.get(auth.LOGIN_COOKIE) or ""
        fresh = not (20 <= len(nonce) <= 64)
        if fresh:
            nonce = secrets.token_urlsafe(24)
        response = _page("console_login.html", status, csrf=auth.csrf_token(key, nonce, "login"), message=message)
        if fresh:
            _set_cookie(request, response, auth.LOGIN_COOKIE, nonce, 3600)
        return response

    @blueprint.get("/connexion", name="console_login")
    @enabled
    async def login_form(request: Request, key: bytes) -> HTTPResponse:
        return login_page(request, key)

    @blueprint.post("/connexion", name="console_login_post")
    @enabled
    async def login(request: Request, key: bytes) -> HTTPResponse:
        if not auth.csrf_ok(key, request.cookies.get(auth.LOGIN_COOKIE), _form(request, "csrf"), "login"):
            return _page("console_error.html", 403, message=FORBIDDEN)
        who = client(request)
        waiting = await guard().locked_for(who)
        if waiting:
            return login_page(request, key, 429, auth.lock_message(waiting))
        stored = get_settings().admin_password_hash
        if not await asyncio.to_thread(verify_password, _form(request, "password"), stored):
            await guard().failed(who)
            await asyncio.sleep(auth.WRONG_PASSWORD_DELAY)
            waiting = await guard().locked_for(who)
            if waiting:
                return login_page(request, key, 429, auth.lock_message(waiting))
            left = await guard().tries_left(who)
            tries = f"encore {left} essai{'s' if left > 1 else ''}"
            return login_page(request, key, 401, f"{REFUSED_LOGIN} Il vous reste {tries} avant un blocage de "
                                                 f"{auth.LOCK_SECONDS // 60} minutes.")
        await guard().succeeded(who)
        response = redirect(HOME, status=303, headers=PRIVATE)
        _set_cookie(request, response, auth.SESSION_COOKIE, sessions.issue(key), auth.SESSION_SECONDS)
        _set_cookie(request, response, auth.LOGIN_COOKIE, "", 0)
        return response

    @blueprint.post("/deconnexion", name="console_logout")
    @private
    async def logout(request: Request, _context: dict[str, Any], nonce: str) -> HTTPResponse:
        sessions.revoke(nonce)
        response = redirect(LOGIN, status=303, headers=PRIVATE)
        _set_cookie(request, response, auth.SESSION_COOKIE, "", 0)
        return response

    @blueprint.get("/vue-ensemble", name="console_overview")
    @private
    async def overview_page(request: Request, context: dict[str, Any], _nonce: str) -> HTTPResponse:
        period = await with_period(request, context)
        data = await asyncio.to_thread(_in_session, figures.overview, period, survey())
        return _page("console_overview.html", current="vue-ensemble", data=data,
                     view=overview_view(data, survey()), **context)

    @blueprint.get("/entonnoir", name="console_funnel")
    @private
    async def funnel_page(request: Request, context: dict[str, Any], _nonce: str) -> HTTPResponse:
        period = await with_period(request, context)
        steps = await asyncio.to_thread(_in_session, funnel.funnel, period, survey())
        first = max((step.reached for step in steps), default=0)
        chart = horizontal_bars("Visiteurs arrivés à chaque question",
                                [(f"{step.position}. {step.text}", step.reached, str(step.reached)) for step in steps],
                                first or 1)
        return _page("console_funnel.html", current="entonnoir", steps=steps, chart=chart, percent=percent_text,
                     **context)

    @blueprint.get("/boite", name="console_inbox")
    @private
    async def inbox_page(request: Request, context: dict[str, Any], _nonce: str) -> HTTPResponse:
        await asyncio.to_thread(refresh)
        try:
            page = max(1, int(request.args.get("page", "1")))
        except ValueError:
            page = 1

        def read() -> tuple[tuple[int, int], list[inbox.InboxGroup]]:
            with session_scope() as session:
                return inbox.counts(session), inbox.groups(session, page)

        (total, unlabelled), groups = await asyncio.to_thread(read)
        questions = {question.id: (position, question.text)
                     for position, question in enumerate(survey().questions, start=1)}
        done = request.args.get("etiquetes")
        choices = label_choices(survey(), training_data().labelling_intents)
        return _page("console_inbox.html", current="boite", groups=groups, total=total, unlabelled=unlabelled,
                     page=page, pages=max(1, -(-total // inbox.PAGE_SIZE)), questions=questions, choices=choices,
                     label_names=label_names(choices), local_date=local_date,
                     done=int(done) if done and done.isdigit() else None, **context)

    async def change_label(request: Request, clear: bool) -> HTTPResponse:
        try:
            message_id = int(_form(request, "message"))
            label = None if clear else inbox.parse_label(_form(request, "label"), survey(),
                                                         frozenset(training_data().labelling_intents))
        except (ValueError, inbox.LabelError) as error:
            text = str(error) if isinstance(error, inbox.LabelError) else "Ce message est introuvable."
            return _page("console_error.html", 400, message=text)

        def write() -> int:
            with session_scope() as session:
                if label is None:
                    return inbox.clear_label(session, message_id)
                return inbox.label_group(session, message_id, label)

        changed = await asyncio.to_thread(write)
        page = _form(request, "page")
        query = urlencode({"page": page if page.isdigit() else "1", "etiquetes": changed})
        return redirect(f"{PREFIX}/boite?{query}#groupe-{message_id}", status=303, headers=PRIVATE)

    @blueprint.post("/boite/etiqueter", name="console_label")
    @private
    async def label_post(request: Request, _context: dict[str, Any], _nonce: str) -> HTTPResponse:
        return await change_label(request, clear=False)

    @blueprint.post("/boite/retirer", name="console_unlabel")
    @private
    async def unlabel_post(request: Request, _context: dict[str, Any], _nonce: str) -> HTTPResponse:
        return await change_label(request, clear=True)

    @blueprint.get("/lacunes", name="console_gaps")
    @private
    async def gaps_page(request: Request, context: dict[str, Any], _nonce: str) -> HTTPResponse:
        period = await with_period(request, context)
        total, gaps = await asyncio.to_thread(_in_session, listening.knowledge_gaps, period)
        return _page("console_gaps.html", current="lacunes", total=total, gaps=gaps, local_date=local_date, **context)

    @blueprint.get("/avis", name="console_feedback")
    @private
    async def feedback_page(request: Request, context: dict[str, Any], _nonce: str) -> HTTPResponse:
        period = await with_period(request, context)
        summary = await asyncio.to_thread(_in_session, listening.feedback, period)
        doors = {door.id: door.label for door in survey().doors}
        levels = {level.id: level.label for level in survey().levels}
        return _page("console_feedback.html", current="avis", summary=summary, doors=doors, levels=levels,
                     local_date=local_date, percent=percent_text, **context)

    @blueprint.get("/exports", name="console_exports")
    @private
    async def exports_page(request: Request, context: dict[str, Any], _nonce: str) -> HTTPResponse:
        await with_period(request, context)
        return _page("console_exports.html", current="exports", exports=CSV_EXPORTS, **context)

    @blueprint.get("/exports/<filename:str>", name="console_export")
    @private
    async def export_file(request: Request, _context: dict[str, Any], _nonce: str, filename: str) -> HTTPResponse:
        if filename == "nlu.yml":
            return await export_nlu()
        name, _, extension = filename.rpartition(".")
        if extension != "csv" or name not in CSV_EXPORTS:
            raise NotFound(f"Requested URL {request.path} not found")
        period, _ = _period(request)
        await asyncio.to_thread(refresh)
        body = await asyncio.to_thread(_csv_text, name, period, survey())
        download = f"console-{name}-{period.first.isoformat()}-{period.last.isoformat()}.csv"
        return raw(body.encode("utf-8"), content_type="text/csv; charset=utf-8",
                   headers={**PRIVATE, "Content-Disposition": f'attachment; filename="{download}"'})

    async def export_nlu() -> HTTPResponse:
        def build() -> str:
            with session_scope() as session:
                return export_yaml(inbox.labelled_texts(session)).yaml_text

        body = await asyncio.to_thread(build)
        return raw(body.encode("utf-8"), content_type="application/yaml; charset=utf-8",
                   headers={**PRIVATE, "Content-Disposition": 'attachment; filename="console_nlu.yml"'})

    return blueprint


def _in_session(function: Callable[..., Any], *args: Any) -> Any:
    with session_scope() as session:
        return function(session, *args)


def _csv_text(name: str, period: Period, survey: Questionnaire) -> str:
    with session_scope() as session:
        if name == "vue-ensemble":
            return csv_export.overview_csv(figures.overview(session, period, survey), survey)
        if name == "entonnoir":
            return csv_export.funnel_csv(funnel.funnel(session, period, survey))
        if name == "lacunes":
            return csv_export.gaps_csv(listening.knowledge_gaps(session, period)[1])
        return csv_export.feedback_csv(listening.feedback(session, period), survey)


def add_console_routes(app: Sanic, survey: Callable[[], Questionnaire]) -> None:
    """Register the console on ``app`` (its pages answer 404 while no password is set)."""
    app.blueprint(console_blueprint(app, survey))
