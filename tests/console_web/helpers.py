"""Driving the console's pages with Flask's test client: sign in as a browser does, read CSRF tokens from pages."""
import re

from tests.builders import STAFF_PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html):
    """The CSRF token a rendered page carries in its forms."""
    found = _CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def web_login(client, username, password=STAFF_PASSWORD, next_url=None):
    """Sign in through the login form; returns the session's CSRF token (for forms and X-CSRF-Token)."""
    page = client.get("/console/login")
    data = {"username": username, "password": password, "csrf_token": csrf_of(page.text)}
    if next_url:
        data["next"] = next_url
    response = client.post("/console/login", data=data)
    assert response.status_code == 302, response.text
    return csrf_of(client.get("/console/password").text)


def make_web_staff(client, username="yongning", role="county_operator", **scope):
    """Create a staff account (county operator of 永宁县 by default) and sign in to the console; returns the CSRF token."""
    from app.services.accounts import staff

    if role in ("county_operator", "transport_operator") and "county_code" not in scope:
        scope["county_code"] = "640121"
    staff.create_staff(username, STAFF_PASSWORD, role, **scope, by=staff.CLI)
    return web_login(client, username)
