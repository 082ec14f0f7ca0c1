"""Travel applications (出行报名) as the worker sees them: submit, list, read, cancel."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import crypto
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.models import Application, County, Enterprise
from app.services.people import content_security, health, workers
from app.services.people.identity import InvalidIdentity, mask_phone, parse_phone
from app.services.platform.timeutil import local_today
from app.services.transport import trips

MAX_WINDOW_DAYS = 30
MAX_DAYS_AHEAD = 90


def submit(worker, data):
    """Submit an application for the worker and commit.

    Needs a complete profile with consent and a health declaration from the last
    DECLARATION_MAX_AGE_HOURS; a red status blocks it. One active application at a time.
    Raises Invalid (profile_incomplete, declaration_required, bad dates or references),
    Conflict (health_red, application_active).
    """
    missing = workers.missing_fields(worker)
    if missing:
        raise Invalid("profile_incomplete", "请先完善个人信息并同意隐私说明",
                      fields={name: "必填" for name in missing})
    events = health.events_of(worker.id)
    max_age = current_app.config["DECLARATION_MAX_AGE_HOURS"]
    if health.latest_declaration_within(events, max_age) is None:
        raise Invalid("declaration_required", f"请先完成{max_age}小时内的健康申报")
    status = health.status_of(worker.id, events)
    if status.status == "red":
        raise Conflict("health_red", f"健康状态为红码，暂不能报名出行：{status.message}")
    _check_dates(data["earliest_departure"], data["latest_departure"])
    _check_references(data)
    active = active_application_id(worker.id)
    if active is not None:
        raise _already_active(active)
    fields = content_security.APPLICATION_FIELDS
    verdicts = content_security.screen(worker, content_security.changed_texts(None, data, fields), fields)
    contact = data.pop("employer_contact", None)
    application = Application(worker_id=worker.id, **data)
    application.move_to("submitted")
    crypto.seal(application, "employer_contact", contact, "application.employer_contact", mask_phone)
    db.session.add(application)
    try:
        if verdicts:
            db.session.flush()  # the flags name the application by its id
            content_security.record(worker, verdicts, application)
        db.session.commit()
    except IntegrityError as error:
        # Two submissions raced past the check above; the unique index let one through.
        db.session.rollback()
        if "active_worker_id" in str(error.orig):
            raise _already_active(active_application_id(worker.id)) from None
        raise
    return application


def active_application_id(worker_id):
    """The id of the worker's submitted, approved or assigned application, or None."""
    return db.session.scalar(select(Application.id).where(Application.active_worker_id == worker_id))


def _already_active(application_id):
    return Conflict("application_active", "已有进行中的出行报名，请先取消后再报名",
                    fields={"application_id": str(application_id)})


def _check_dates(earliest, latest):
    today = local_today()
    errors = {}
    if earliest < today:
        errors["earliest_departure"] = f"不能早于今天（北京时间 {today.isoformat()}）"
    elif earliest > today + timedelta(days=MAX_DAYS_AHEAD):
        errors["earliest_departure"] = f"最多可报名{MAX_DAYS_AHEAD}天内出发"
    if latest < earliest:
        errors["latest_departure"] = "不能早于最早出发日期"
    elif (latest - earliest).days > MAX_WINDOW_DAYS:
        errors["latest_departure"] = f"出发日期范围最多{MAX_WINDOW_DAYS}天"
    if errors:
        raise Invalid("validation_error", "出发日期有误", fields=errors)


def _check_references(data):
    errors = {}
    if db.session.get(County, data["county_code"]) is None:
        errors["county_code"] = "不是银川市的县区代码"
    employer_id = data.get("employer_id")
    if employer_id is not None and db.session.get(Enterprise, employer_id) is None:
        errors["employer_id"] = "没有这家企业"
    if employer_id is None and not data.get("employer_name"):
        errors["employer_name"] = "请选择用工企业，或填写企业名称"
    if data.get("employer_contact"):
        try:
            data["employer_contact"] = parse_phone(data["employer_contact"])
        except InvalidIdentity as error:
            errors["employer_contact"] = str(error)
    if errors:
        raise Invalid("validation_error", "报名信息有误", fields=errors)


def list_for(worker):
    """The worker's applications, newest first."""
    return db.session.scalars(
        select(Application)
        .where(Application.worker_id == worker.id)
        .order_by(Application.created_at.desc(), Application.id.desc())
    ).all()


def get_for(worker, application_id):
    """One of the worker's own applications; another worker's id is NotFound."""
    application = db.session.get(Application, application_id)
    if application is None or application.worker_id != worker.id:
        raise NotFound("application_not_found", "没有找到这条报名")
    return application


def cancel(worker, application_id):
    """Cancel the worker's own application and commit; final states are a Conflict."""
    application = get_for(worker, application_id)
    db.session.refresh(application, with_for_update=True)
    if not application.can_become("cancelled"):
        raise Conflict("application_not_cancellable", "该报名当前状态不能取消")
    if application.status == "assigned" and trips.under_way(application):
        raise Conflict("trip_under_way", "车次已出发，不能取消报名，请联系车长或所在县区")
    trips.release_application_seat(application, "cancelled")
    application.move_to("cancelled", "本人取消")
    db.session.commit()
    return application

