"""Every console page against bad input: odd query values are a Chinese page, never a 500; every POST needs CSRF.

The routes come from the app's url_map (every `console_web.` endpoint), so a page added later is covered
without a line here. Path ids are real rows where the seed made one (else 1) and 2147483648, past INT.
"""
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.services.accounts import staff as staff_accounts
from app.services.office import liaison
from tests.builders import STAFF_PASSWORD, publish_trip
from tests.console.test_liaison import unit
from tests.console_web.helpers import make_web_staff, web_login

SKIPPED = {"console_web.static", "console_web.vendor", "console_web.login", "console_web.logout"}
HUGE_ID = 2147483648
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_NUMBERS = ("²", "-1", "99999999999")
QUERIES = [
    *({"page": value} for value in (*_NUMBERS, "2147483648", "0", "abc")),
    *({"per_page": value} for value in _NUMBERS),
    *({key: value} for key in ("object_id", "worker", "worker_id", "enterprise_id", "job_id", "park_id",
                                "checkpoint_id", "trip_id", "plan_id", "county") for value in _NUMBERS),
    *({key: value} for key in ("day_from", "day_to", "date_from", "date_to", "date")
      for value in ("0001-01-01", "9999-12-31", "2020-13-45")),
    {"day_from": "2000-01-01", "day_to": "2099-12-31"}, {"date_from": "2000-01-01", "date_to": "2099-12-31"},
    *({key: value} for key in ("actor", "scope") for value in ("staff:²", "park:²", "staff:99999999999999999999999",
                                                                 "park:99999999999999999999999", "enterprise:-1")),
    *({key: "长" * 5000} for key in ("q", "name", "user", "action", "object_type", "status", "kind")),
]


def _rules(app, method):
    return sorted((rule for rule in app.url_map.iter_rules()
                   if rule.endpoint.startswith("console_web.") and rule.endpoint not in SKIPPED
                   and method in rule.methods), key=lambda rule: rule.rule)


def _seed(client):
    """A published trip (applications, plan, trip, workers), a liaison unit; {path argument: a real id}."""
    trip = publish_trip(client, passengers=4)
    admin = staff_accounts.create_staff("seeder", STAFF_PASSWORD, "admin", by=staff_accounts.CLI)
    made = liaison.create_unit(admin, unit(1))
    trip_id = trip["trip"]["id"]
    first = lambda table: db.session.execute(sa.text(f"SELECT MIN(id) FROM {table}")).scalar() or 1  # noqa: E731
    return {"trip_id": trip_id, "plan_id": first("plans"), "application_id": trip["riders"][0]["application_id"],
            "enterprise_id": first("enterprises"), "staff_id": admin.id, "unit_id": made.id,
            "order_id": first("isolation_orders"), "job_id": first("enterprise_jobs")}


def _urls(rule, ids):
    """The rule's URL with real ids (1 where none) and, when it takes ids, with 2147483648 for each."""
    arguments = [name for name in rule.arguments]
    real = rule.build({name: ids.get(name, 1) for name in arguments}, append_unknown=False)[1]
    return [real] + ([rule.build({name: HUGE_ID for name in arguments}, append_unknown=False)[1]]
                     if arguments else [])


def _signed_in(client, who):
    if who == "admin":
        staff_accounts.create_staff("office", STAFF_PASSWORD, "admin", by=staff_accounts.CLI)
        return web_login(client, "office")
    return make_web_staff(client, "yongning-fuzz")


def _check(response, url):
    assert response.status_code < 500, (url, response.status_code)
    kind = response.headers.get("Content-Type", "")
    if response.status_code == 200 and url.split("?")[0].endswith(".xlsx"):
        assert kind.startswith(XLSX), url
    elif response.status_code in (301, 302, 303):
        assert response.headers["Location"], url
    else:  # a page, or a partial (the feeds' htmx fragments); an error is always the whole error page
        assert kind.startswith("text/html"), (url, response.status_code)
        assert response.status_code == 200 or "<html" in response.text, (url, response.status_code)


@pytest.mark.parametrize("who", ["admin", "county_operator"])
def test_no_query_makes_a_page_fail(app, client, who):
    ids = _seed(client)
    _signed_in(client, who)
    rules = _rules(app, "GET")
    assert len(rules) > 30  # the walk found the pages
    failed = []
    for rule in rules:
        for url, query in [(url, {}) for url in _urls(rule, ids)] + [(_urls(rule, ids)[0], q) for q in QUERIES]:
            try:
                _check(client.get(url, query_string=query), f"{url}?{query}")
            except AssertionError as error:
                failed.append(str(error)[:160])
            db.session.rollback()
    assert failed == []


def _counts():
    tables = sa.inspect(db.engine).get_table_names()
    return {table: db.session.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar() for table in tables}


def test_every_post_without_its_csrf_token_is_refused(app, client):
    ids = _seed(client)
    _signed_in(client, "admin")
    rules = _rules(app, "POST")
    assert len(rules) > 20
    db.session.commit()
    before = _counts()
    for rule in rules:
        url = _urls(rule, ids)[0]
        for token in ({}, {"csrf_token": "forged"}, {"csrf_token": "é"}):
            response = client.post(url, data={"confirmed": "yes", "direction": "down", **token})
            assert response.status_code == 403, (url, response.status_code)
            assert "csrf_failed" in response.text and "<html" in response.text, url
    db.session.expire_all()
    assert _counts() == before
