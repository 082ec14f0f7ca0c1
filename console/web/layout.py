"""What every console page shares: the menu by role, the header's name · role · scope, flash messages, `render_page`.

A menu entry shows only when its page exists and the role may open it, so no link leads nowhere.
Flash messages survive one redirect in a signed cookie (the app keeps no cookie session).
"""
import json
from datetime import UTC, datetime

from flask import current_app, g, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import Checkpoint, County, Enterprise, Park
from app.services.messaging import inbox
from app.services.people.identity import mask_name
from app.services.platform.timeutil import LOCAL_ZONE
from console.web import bp
from console.web.session import csrf_token, current_staff

ROLE_LABELS = {
    "admin": "协调办", "county_operator": "县区专班", "park_operator": "园区专班",
    "transport_operator": "运输专班", "checkpoint_staff": "卡口工作人员", "enterprise_hr": "企业人事",
    "health_officer": "卫健",
}
# (endpoint, label, roles that may open it), in the order of a working day (CONSOLE.md's page map).
MENU = [
    ("console_web.dashboard", "看板", ("admin", "county_operator", "park_operator", "health_officer")),
    ("console_web.applications", "申请审核", ("admin", "county_operator", "park_operator")),
    ("console_web.planning", "编班编组", ("admin", "county_operator", "park_operator")),
    ("console_web.trips", "车次（一车一方案）", ("admin", "county_operator", "park_operator", "transport_operator")),
    ("console_web.checkpoint", "卡口扫码", ("checkpoint_staff",)),
    ("console_web.isolation", "隔离管理", ("admin", "health_officer")),
    ("console_web.certificates", "健康证明", ("admin", "health_officer")),
    ("console_web.roster", "花名册 · 每日随访", ("admin", "county_operator", "park_operator", "enterprise_hr")),
    ("console_web.enterprises", "企业与岗位（附件2）", ("admin", "county_operator", "park_operator", "enterprise_hr")),
    ("console_web.content", "内容审核", ("admin", "county_operator")),
    ("console_web.liaison", "联络员（附件1）", ("admin",)),
    ("console_web.trust", "互认城市", ("admin", "health_officer")),
    ("console_web.messages", "消息发送", ("admin",)),
    ("console_web.accounts", "账号", ("admin",)),
    ("console_web.audit", "审计日志", ("admin",)),
]
FLASH_COOKIE = "fg_flash"


def menu_for(staff):
    """The menu entries this staff member may open, among the pages that exist."""
    return [(endpoint, label) for endpoint, label, roles in MENU
            if staff.role in roles and endpoint in current_app.view_functions]


def scope_label(staff):
    """Where the staff member's scope lies, in words: 永宁县, 河东机场, 全市…"""
    for column, model in (("county_code", County), ("park_id", Park), ("enterprise_id", Enterprise),
                          ("checkpoint_id", Checkpoint)):
        value = getattr(staff, column)
        if value is not None:
            row = db.session.get(model, value)
            return row.name if row is not None else str(value)
    return "银川市" if staff.role == "admin" else "全市"


def flash(message, kind="success"):
    """Show a message on the next page this browser renders (after a redirect, or this one)."""
    g.setdefault("flashes", []).append((kind, message))


def take_flashes():
    """The messages waiting for this page: from the cookie of a redirect, then this request's own."""
    waiting = []
    raw = request.cookies.get(FLASH_COOKIE)
    if raw:
        try:
            waiting = [tuple(item) for item in _serializer().loads(raw)][:10]
        except (BadSignature, ValueError, TypeError):
            waiting = []
        g.flash_cookie_read = True
    waiting.extend(g.pop("flashes", []))
    return waiting


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="console-flash")


def render_page(template, status=200, **context):
    """Render a console page with the layout's context."""
    return render_template(template, **context), status


def go(endpoint, **values):
    """Redirect after a successful form post (the flash waits in a cookie)."""
    return redirect(url_for(endpoint, **values))


@bp.app_template_filter("beijing")
def beijing(moment):
    """A moment as staff read it: Beijing time, `2020-02-25 07:30` (a stored naive moment is UTC); None → —."""
    if moment is None:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M")


@bp.app_template_filter("day")
def day(value):
    """A date as `2020-02-25`; None → —."""
    if value is None:
        return "—"
    return value if isinstance(value, str) else value.strftime("%Y-%m-%d")


@bp.app_template_filter("masked_name")
def masked_name(name):
    """A person's name as every page shows it: 张*丰, as on manifests and the scan station; None stays None."""
    return mask_name(name) if name else name


@bp.app_template_filter("dash")
def dash(value):
    """A value, or — when there is none (masked IDs and phones come masked from the presenters)."""
    return "—" if value in (None, "") else value


@bp.context_processor
def _layout_context():
    staff = current_staff()
    if staff is None:
        return {"csrf_token": csrf_token, "staff": None, "menu": [], "take_flashes": take_flashes}
    return {"csrf_token": csrf_token, "staff": staff, "menu": menu_for(staff), "take_flashes": take_flashes,
            "role_label": ROLE_LABELS.get(staff.role, staff.role), "scope_label": scope_label(staff),
            "unread_notifications": lambda: _unread(staff),
            "htmx_headers": json.dumps({"X-CSRF-Token": csrf_token()})}


def _unread(staff):
    """The header badge's count of unread alerts, asked only by pages that draw the header.

    None (no badge) when the database fails: the error page drawn for that failure must still render.
    """
    try:
        return inbox.unread_count(staff)
    except SQLAlchemyError:
        db.session.rollback()
        return None


@bp.after_request
def _keep_flashes(response):
    """Carry this request's unshown flashes over a redirect; drop the cookie once its messages were shown."""
    pending = g.pop("flashes", [])
    if pending and 300 <= response.status_code < 400:
        response.set_cookie(FLASH_COOKIE, _serializer().dumps(pending), httponly=True, samesite="Lax",
                            path="/console", secure=current_app.config["CONSOLE_COOKIE_SECURE"])
    elif g.get("flash_cookie_read"):
        response.delete_cookie(FLASH_COOKIE, path="/console")
    return response
