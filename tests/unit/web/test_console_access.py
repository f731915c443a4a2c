"""The console's access rules that need a web app of their own: no password at all, and the lockout behind a proxy.

Each test starts its own web app (tests/console_server.py), one after the other, so they can share TEST_CONSOLE_WEB_PORT.
"""

from __future__ import annotations

from pathlib import Path

import requests

from tests.console_server import PASSWORD, console_server
from tests.unit.web.test_console_web import PAGES, POSTS, TIMEOUT, csrf_of


def test_without_a_password_every_console_address_is_a_404(tmp_path: Path) -> None:
    with console_server(tmp_path, password=None, seed=False) as bare:
        for path in ["/admin", "/admin/connexion", *PAGES]:
            assert requests.get(bare.url + path, timeout=TIMEOUT).status_code == 404, path
        for path in ["/admin/connexion", *POSTS]:
            assert requests.post(bare.url + path, data={"password": "x"}, timeout=TIMEOUT).status_code == 404, path
        assert requests.get(bare.url + "/health", timeout=TIMEOUT).ok


def test_wrong_passwords_lock_the_client_then_everyone(tmp_path: Path) -> None:
    with console_server(tmp_path, proxies=1) as proxied:
        def attempt(address: str, password: str) -> requests.Response:
            headers = {"X-Forwarded-For": address, "X-Forwarded-Proto": "https"}
            form = requests.get(f"{proxied.url}/admin/connexion", headers=headers, timeout=TIMEOUT)
            assert "Secure" in form.headers["Set-Cookie"]
            # The cookie is Secure: a client sends it back over HTTPS only; this test speaks HTTP to the web app.
            return requests.post(f"{proxied.url}/admin/connexion", allow_redirects=False, timeout=TIMEOUT,
                                 headers=headers, cookies={"alliance_console_login": form.cookies["alliance_console_login"]},
                                 data={"csrf": csrf_of(form.text), "password": password})

        for tries_left in (4, 3, 2, 1):
            refused = attempt("203.0.113.1", "pas le bon mot de passe")
            assert refused.status_code == 401
            assert f"Il vous reste encore {tries_left} essai" in refused.text
        locked = attempt("203.0.113.1", "pas le bon mot de passe")
        assert locked.status_code == 429 and "la connexion est bloquée pendant encore 15 minutes" in locked.text
        assert attempt("203.0.113.1", PASSWORD).status_code == 429, "locked even with the right password"
        opened = attempt("203.0.113.2", PASSWORD)  # another client is not locked
        assert opened.status_code == 303
        cookie = [value for value in opened.raw.headers.getlist("Set-Cookie") if value.startswith("alliance_console=")]
        assert "Secure" in cookie[0], "behind the HTTPS proxy the cookie is Secure"
        for number in range(15):  # 20 wrong passwords in all: the login is locked for everyone
            attempt(f"198.51.100.{number}", "pas le bon mot de passe")
        assert attempt("203.0.113.3", PASSWORD).status_code == 429
