"""The console over HTTP, on a web app with a seeded database: access, session, CSRF, lockout, escaping, labels.

The web app runs alone (no Rasa): see tests/console_server.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import insert

from bot.store.analytics_tables import InboxMessage, visitor_key
from bot.store.db import build_engine
from bot.web.app import CONTENT_SECURITY_POLICY
from tests.console_server import PASSWORD, ConsoleServer, console_server

PAGES = ["/admin/vue-ensemble", "/admin/entonnoir", "/admin/boite", "/admin/lacunes", "/admin/avis", "/admin/exports",
         "/admin/exports/vue-ensemble.csv", "/admin/exports/entonnoir.csv", "/admin/exports/lacunes.csv",
         "/admin/exports/avis.csv", "/admin/exports/nlu.yml"]
POSTS = ["/admin/boite/etiqueter", "/admin/boite/retirer", "/admin/deconnexion"]
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"(?:\+33|0)\s*[1-9](?:[\s.-]*\d{2}){4}")
TIMEOUT = 15


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    with console_server(tmp_path_factory.mktemp("console")) as running:
        yield running


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1)


def log_in(url: str, password: str = PASSWORD, headers: dict[str, str] | None = None) -> requests.Session:
    session = requests.Session()
    session.headers.update(headers or {})
    form = session.get(f"{url}/admin/connexion", timeout=TIMEOUT)
    reply = session.post(f"{url}/admin/connexion", data={"csrf": csrf_of(form.text), "password": password},
                         allow_redirects=False, timeout=TIMEOUT)
    assert reply.status_code == 303 and reply.headers["location"] == "/admin/vue-ensemble", reply.text[:500]
    return session


def test_no_page_or_export_without_the_session(server: ConsoleServer) -> None:
    for path in ["/admin", *PAGES]:
        reply = requests.get(server.url + path, allow_redirects=False, timeout=TIMEOUT)
        assert reply.status_code == 303 and reply.headers["location"] == "/admin/connexion", path
    for path in POSTS:
        assert requests.post(server.url + path, data={"message": "1", "label": "ignored"},
                             timeout=TIMEOUT).status_code == 403, path
    forged = requests.get(server.url + "/admin/vue-ensemble", allow_redirects=False, timeout=TIMEOUT,
                          cookies={"alliance_console": "1796321300.abc.forged"})
    assert forged.status_code == 303


def test_the_login_page_and_the_session_cookie(server: ConsoleServer) -> None:
    page = requests.get(server.url + "/admin/connexion", timeout=TIMEOUT)
    assert page.status_code == 200 and "Mot de passe" in page.text
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert page.headers["Cache-Control"] == "no-store"
    session = requests.Session()
    form = session.get(server.url + "/admin/connexion", timeout=TIMEOUT)
    reply = session.post(server.url + "/admin/connexion", data={"csrf": csrf_of(form.text), "password": PASSWORD},
                         allow_redirects=False, timeout=TIMEOUT)
    cookie = next(value for value in reply.raw.headers.getlist("Set-Cookie") if value.startswith("alliance_console="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/admin" in cookie
    assert "Secure" not in cookie  # plain HTTP here; behind the HTTPS proxy: see the lockout test's server
    for path in PAGES:
        answer = session.get(server.url + path, timeout=TIMEOUT)
        assert answer.status_code == 200, path
        assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert answer.headers["Cache-Control"] == "no-store"


def test_a_form_without_its_csrf_token_is_refused(server: ConsoleServer) -> None:
    login = requests.post(server.url + "/admin/connexion", data={"password": PASSWORD}, allow_redirects=False,
                          timeout=TIMEOUT)
    assert login.status_code == 403 and "alliance_console=" not in login.headers.get("Set-Cookie", "")
    session = log_in(server.url)
    inbox = session.get(server.url + "/admin/boite", timeout=TIMEOUT).text
    message = re.search(r'name="message" value="(\d+)"', inbox).group(1)
    for token in (None, "", "forged", csrf_of(inbox)[:-2] + "xx"):
        data = {"message": message, "label": "ignored", **({"csrf": token} if token is not None else {})}
        refused = session.post(server.url + "/admin/boite/etiqueter", data=data, allow_redirects=False, timeout=TIMEOUT)
        assert refused.status_code == 403 and "formulaire a expiré" in refused.text
    assert "Étiquette : " not in session.get(server.url + "/admin/boite", timeout=TIMEOUT).text
    other = log_in(server.url)  # another session's token does not open this one
    other_token = csrf_of(other.get(server.url + "/admin/boite", timeout=TIMEOUT).text)
    assert session.post(server.url + "/admin/boite/etiqueter", data={"message": message, "label": "ignored",
                        "csrf": other_token}, allow_redirects=False, timeout=TIMEOUT).status_code == 403


def test_labelling_a_group_and_exporting_it(server: ConsoleServer) -> None:
    session = log_in(server.url)
    inbox = session.get(server.url + "/admin/boite", timeout=TIMEOUT).text
    message = re.search(r'id="groupe-(\d+)">\s*<h2 class="inbox-text">«\u00a0On est un groupement', inbox).group(1)
    done = session.post(server.url + "/admin/boite/etiqueter", allow_redirects=False, timeout=TIMEOUT,
                        data={"csrf": csrf_of(inbox), "message": message, "label": "answer:actor_type:accompagnement"})
    assert done.status_code == 303 and done.headers["location"].startswith("/admin/boite?page=1&etiquetes=2")
    page = session.get(server.url + done.headers["location"], timeout=TIMEOUT).text
    assert "2 messages mis à jour" in page and "Étiquette : <strong>Réponse à la question 1" in page
    exported = session.get(server.url + "/admin/exports/nlu.yml", timeout=TIMEOUT)
    assert exported.headers["Content-Disposition"] == 'attachment; filename="console_nlu.yml"'
    assert '"entity": "actor_type", "value": "accompagnement"' in exported.text
    wrong = session.post(server.url + "/admin/boite/etiqueter", allow_redirects=False, timeout=TIMEOUT,
                         data={"csrf": csrf_of(inbox), "message": message, "label": "answer:actor_type:licorne"})
    assert wrong.status_code == 400 and "Choisissez une étiquette" in wrong.text
    cleared = session.post(server.url + "/admin/boite/retirer", allow_redirects=False, timeout=TIMEOUT,
                           data={"csrf": csrf_of(inbox), "message": message})
    assert cleared.status_code == 303


def test_the_inbox_shows_no_email_or_phone_and_escapes_html(server: ConsoleServer) -> None:
    # A row the pipeline would have masked, stored raw anyway: the console masks it again.
    engine = build_engine(server.database_url)
    with engine.begin() as connection:
        connection.execute(insert(InboxMessage).values(
            visitor=visitor_key("raw"), text="écrivez à jean.dupont@example.org ou au 06 12 34 56 78",
            group_key="ecrivez a jean dupont", question_id=None, reason="fallback"))
    engine.dispose()
    session = log_in(server.url)
    for path in ("/admin/boite", "/admin/lacunes?debut=2026-11-01&fin=2026-11-30",
                 "/admin/avis?debut=2026-11-01&fin=2026-11-30"):
        page = session.get(server.url + path, timeout=TIMEOUT).text
        assert not EMAIL.search(page) and not PHONE.search(page), path
        assert "<script>alert" not in page and "<b>gras" not in page and "<i>très" not in page, path
    inbox = session.get(server.url + "/admin/boite", timeout=TIMEOUT).text
    assert "&lt;b&gt;gras&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in inbox
    assert "[adresse e-mail masquée]" in inbox and "[numéro masqué]" in inbox
    assert "écrivez à [e-mail masqué] ou au [téléphone masqué]" in inbox
    assert "scripted-" not in inbox and "visitor" not in inbox  # no conversation id, no visitor key


def test_logging_out_ends_the_session(server: ConsoleServer) -> None:
    session = log_in(server.url)
    page = session.get(server.url + "/admin/vue-ensemble", timeout=TIMEOUT)
    cookie = session.cookies.get("alliance_console")
    out = session.post(server.url + "/admin/deconnexion", data={"csrf": csrf_of(page.text)}, allow_redirects=False,
                       timeout=TIMEOUT)
    assert out.status_code == 303 and out.headers["location"] == "/admin/connexion"
    again = requests.get(server.url + "/admin/vue-ensemble", cookies={"alliance_console": cookie},
                         allow_redirects=False, timeout=TIMEOUT)
    assert again.status_code == 303, "the old cookie no longer opens the console"


def test_a_bad_period_is_explained(server: ConsoleServer) -> None:
    session = log_in(server.url)
    page = session.get(server.url + "/admin/vue-ensemble?debut=2026-11-30&fin=2026-11-01", timeout=TIMEOUT)
    assert page.status_code == 200 and "La date de début doit précéder la date de fin." in page.text


def test_odd_input_gets_a_clear_answer_never_an_error(server: ConsoleServer) -> None:
    session = log_in(server.url)
    for path in ("/admin/vue-ensemble?debut=<script>&fin=2026-13-45", "/admin/entonnoir?debut=1026-01-01&fin=2026-01-01",
                 "/admin/boite?page=abc", "/admin/boite?page=999999", "/admin/boite?page=-3",
                 "/admin/exports/entonnoir.csv?debut=x"):
        reply = session.get(server.url + path, timeout=TIMEOUT)
        assert reply.status_code == 200, path
        assert "<script>" not in reply.text
    assert session.get(server.url + "/admin/exports/secret.csv", timeout=TIMEOUT).status_code == 404
    assert session.get(server.url + "/admin/exports/nlu.json", timeout=TIMEOUT).status_code == 404
    token = csrf_of(session.get(server.url + "/admin/boite", timeout=TIMEOUT).text)
    for message in ("abc", "", "99999999"):
        reply = session.post(server.url + "/admin/boite/etiqueter", allow_redirects=False, timeout=TIMEOUT,
                             data={"csrf": token, "message": message, "label": "ignored"})
        assert reply.status_code in (303, 400), message
