"""Helpers for the event-message tests: reading messages, a WeChat-configured app, grants, WeChat's field rules."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import Message, SubscriptionGrant
from app.services.messaging import templates

TEMPLATE_IDS = {key: f"tmpl-{key.replace('_', '-')}" for key in templates.TEMPLATES}
_HAN = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MOMENT = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日( \d{2}:\d{2})?$")


def messages(worker_id=None, template=None, staff_id=None):
    """Messages, oldest first, of a worker or a staff member and one template."""
    statement = select(Message).order_by(Message.id).execution_options(populate_existing=True)
    if worker_id is not None:
        statement = statement.where(Message.worker_id == worker_id)
    if staff_id is not None:
        statement = statement.where(Message.staff_user_id == staff_id)
    if template is not None:
        statement = statement.where(Message.template == template)
    db.session.commit()  # a new transaction: on MariaDB, see what another app's requests committed meanwhile
    return db.session.scalars(statement).all()


def wechat_app(make_app, **overrides):
    """An app with WeChat and every template configured (no HTTP is made to enqueue)."""
    return make_app(**{"WECHAT_APP_ID": "wx-test-app", "WECHAT_APP_SECRET": "wx-test-secret",
                       "WECHAT_TEMPLATES": TEMPLATE_IDS, **overrides})


def grant(worker_id, key, count=1):
    """Give a worker `count` unused one-time grants for a template, as POST /subscriptions records them."""
    for _ in range(count):
        db.session.add(SubscriptionGrant(worker_id=worker_id, template=key, template_id=TEMPLATE_IDS[key]))
    db.session.commit()


def obeys_wechat_rules(key, value):
    """Whether one fitted value keeps WeChat's rule for its key's type (subscribeMessage.send)."""
    kind = re.match(r"^([a-z_]+?)\d+$", key).group(1)
    if not isinstance(value, str) or not value or _CONTROL.search(value):
        return False
    rules = {
        "thing": lambda v: len(v) <= 20,
        "phrase": lambda v: len(v) <= 5 and bool(_HAN.match(v)),
        "character_string": lambda v: len(v) <= 32 and v.isascii(),
        "phone_number": lambda v: len(v) <= 17 and all(ch.isdigit() or ch in "+-" for ch in v),
        "car_number": lambda v: len(v) <= 8 and all((ch.isascii() and ch.isalnum()) or (i in (0, len(v) - 1)
                                                                                   and _HAN.match(ch))
                                                    for i, ch in enumerate(v)),
        "time": lambda v: bool(_MOMENT.match(v)),
        "date": lambda v: bool(_MOMENT.match(v)),
    }
    return rules[kind](value)


def assert_fitted(message):
    """Every field of a stored message is its template's and obeys WeChat's rule; inbox text within its columns."""
    template = templates.TEMPLATES[message.template]
    assert list(message.data) == [key for key, _, _ in template.fields]
    for key, value in templates.payload(message.data).items():  # as the sender sends it (a phone unsealed)
        assert obeys_wechat_rules(key, value["value"]), (message.template, key, value)
    assert len(message.title) <= 40 and len(message.body) <= 500
