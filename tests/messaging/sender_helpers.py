"""Shared by the sender's tests: WeChat settings, and queued messages made through outbox.to_worker."""
from sqlalchemy import select

from app.extensions import db
from app.models import SubscriptionGrant, Worker
from app.models.base import utcnow
from app.services.messaging import outbox, templates

APP_ID = "wx0123456789abcdef"
TEMPLATE_IDS = {key: f"TPL-{key}" for key, template in templates.TEMPLATES.items() if template.audience == "worker"}


def wechat_settings(base_url="https://api.weixin.qq.com/", **overrides):
    """Config of an app that sends subscribe messages (templates configured, trial mini-program)."""
    return {"WECHAT_APP_ID": APP_ID, "WECHAT_APP_SECRET": "test-app-secret", "WECHAT_API_BASE_URL": base_url,
            "WECHAT_TEMPLATES": dict(TEMPLATE_IDS), "WECHAT_MINIPROGRAM_STATE": "trial", "WECHAT_TIMEOUT": 2.0,
            **overrides}


def worker_with_openid(openid):
    """A worker who logged in with WeChat (only the openid matters to the sender)."""
    worker = db.session.scalar(select(Worker).where(Worker.openid == openid))
    if worker is None:
        worker = Worker(openid=openid)
        db.session.add(worker)
        db.session.flush()
    return worker


def decision(n):
    """Values of an application_decided message whose subject names it (m<n>), for counting deliveries."""
    return {"subject": f"m{n} 外出务工报名", "result": "通过", "note": "请按时出发", "decided_at": utcnow(),
            "application_id": n}


def trip_change(n):
    """Values of a trip_changed message."""
    return {"change": f"m{n} 座位调整", "departure": utcnow(), "note": "新二维码已生成"}


VALUES = {"application_decided": decision, "trip_changed": trip_change}


def queue(count, openid="o-worker-1", start=0, key="application_decided"):
    """`count` messages, each with its grant, queued through outbox.to_worker and committed; their ids."""
    worker = worker_with_openid(openid)
    db.session.add_all(SubscriptionGrant(worker_id=worker.id, template=key, template_id=TEMPLATE_IDS[key])
                       for _ in range(count))
    db.session.flush()
    messages = [outbox.to_worker(worker.id, key, VALUES[key](start + n)) for n in range(count)]
    db.session.commit()
    assert all(message.delivery == "queued" for message in messages)
    return [message.id for message in messages]


def subject_of(body):
    """The m<n> a delivered message's first field carries."""
    return body["data"]["thing1"]["value"].split()[0]
