"""Races on MariaDB: two clerks registering one person, or recording one day's follow-up, at once."""
import threading

from sqlalchemy import func, select

from app.extensions import db
from app.models import HealthEvent, RosterEntry, Worker
from tests.console.roster_helpers import ROSTER, hr, register, returnee


def _race(app, calls):
    """Run the calls at the same moment, each in its own app context; returns their status codes."""
    results = []
    barrier = threading.Barrier(len(calls))

    def run(call):
        with app.app_context():
            barrier.wait()
            results.append(call(app.test_client()).status_code)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results)


def test_one_person_registered_by_two_clerks_at_once(mariadb_app):
    with mariadb_app.app_context():
        client = mariadb_app.test_client()
        first, enterprise_id = hr(client)
        second, _ = hr(client, username="hr-b")
    url = ROSTER.format(enterprise_id)
    results = _race(mariadb_app, [lambda c, h=h: c.post(url, json=returnee(), headers=h) for h in (first, second)])
    assert results == [201, 409]
    with mariadb_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Worker)) == 1
        assert db.session.scalar(select(func.count()).select_from(RosterEntry)) == 1


def test_one_follow_up_a_day_even_when_two_clerks_record_it_at_once(mariadb_app):
    with mariadb_app.app_context():
        client = mariadb_app.test_client()
        first, enterprise_id = hr(client)
        second, _ = hr(client, username="hr-b")
        worker_id = register(client, first, enterprise_id)["worker_id"]
    url = f"{ROSTER.format(enterprise_id)}/{worker_id}/follow-ups"
    results = _race(mariadb_app, [lambda c, h=h: c.post(url, json={"temperature": 36.5}, headers=h)
                                  for h in (first, second, first)])
    assert results == [201, 409, 409]
    with mariadb_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(HealthEvent)
                                 .where(HealthEvent.kind == "follow_up")) == 1
