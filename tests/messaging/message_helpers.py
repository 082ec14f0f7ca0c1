"""Messages for tests: written through the outbox as an event would, templates configured as WeChat's console gives them."""
from datetime import datetime

import pytest

from app.extensions import db
from app.services.messaging import outbox
from app.services.office.reference_data import load_reference_data

TEMPLATE_IDS = {key: f"tmpl-{key.replace('_', '-')}-0123456789" for key in (
    "application_decided", "trip_assigned", "trip_changed", "departure_reminder", "arrival_recorded",
    "isolation_changed", "cleared_to_work", "crew_published", "staff_alert")}
WECHAT = {"WECHAT_APP_ID": "wx-test-app", "WECHAT_APP_SECRET": "test-secret", "WECHAT_TEMPLATES": TEMPLATE_IDS}


def worker_id(client, headers):
    """The id of the worker these headers log in."""
    return client.get("/api/mp/v1/me", headers=headers).json["id"]


def decided(worker, n=1, result="已通过"):
    """Write n application_decided messages to a worker and commit; returns their ids, oldest first."""
    ids = []
    for index in range(n):
        message = outbox.to_worker(worker, "application_decided", {
            "subject": f"外出务工报名 {index + 1}", "result": result, "note": "请留意编班和乘车通知",
            "decided_at": datetime(2020, 2, 24, 1, 30), "application_id": index + 1})
        db.session.flush()
        ids.append(message.id)
    db.session.commit()
    return ids


def alert(staff_ids, subject="新的出行报名待审核", note="永宁县 3 条", kind="报名待审核"):
    """Write a staff alert to these staff members and commit; returns the messages' ids."""
    messages = outbox.to_staff(staff_ids, subject, note, at=datetime(2020, 2, 24, 2, 0), kind=kind)
    db.session.flush()
    ids = [m.id for m in messages]
    db.session.commit()
    return ids


@pytest.fixture(name="app")
def templated_app(make_app):
    """The app with template ids configured (WeChat itself is not: dev logins work), in an app context.

    A module that imports this fixture gets it as its `app` (and so its `client`).
    """
    app = make_app(WECHAT_TEMPLATES=TEMPLATE_IDS)
    with app.app_context():
        load_reference_data()
        yield app
