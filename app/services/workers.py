"""Worker sign-up: WeChat login and the profile (个人信息)."""
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, Invalid
from app.extensions import db
from app.models import Enterprise, Worker
from app.models.base import utcnow
from app.services import crypto, tokens, wechat
from app.services.identity import (
    InvalidIdentity,
    mask_id_number,
    mask_mobile,
    parse_id_number,
    parse_mobile,
)

# Fields a profile must have before the worker can apply to travel.
REQUIRED_FIELDS = ("name", "id_number", "mobile", "hometown_county", "hometown_township", "current_address")
_PLAIN_FIELDS = ("name", "hometown_county", "hometown_township", "current_address", "skills", "job_intention")


def login(code):
    """Log a worker in with a wx.login() code; creates the worker on first login.

    Returns (worker, token, expires_in). Only the openid is stored before consent.
    """
    session = wechat.code_to_session(code)
    worker = db.session.scalar(select(Worker).where(Worker.openid == session.openid))
    if worker is None:
        worker = Worker(openid=session.openid)
        db.session.add(worker)
        try:
            db.session.flush()
        except IntegrityError:
            # The same person logged in twice at once; the other request created the row.
            db.session.rollback()
            worker = db.session.scalar(select(Worker).where(Worker.openid == session.openid))
    if session.session_key:
        worker.session_key_cipher = crypto.cipher().encrypt(session.session_key, "worker.session_key")
    worker.last_login_at = utcnow()
    token, expires_in = tokens.issue_token("worker", worker.id)
    db.session.commit()
    return worker, token, expires_in


def id_number_owner(index):
    """The id of the worker holding an ID number (by blind index), or None."""
    return db.session.scalar(select(Worker.id).where(Worker.id_number_index == index))


def missing_fields(worker):
    """Names of the profile fields still needed before applying, consent included."""
    missing = []
    if not worker.consent_version:
        missing.append("consent")
    values = {
        "name": worker.name,
        "id_number": worker.id_number_index,
        "mobile": worker.mobile_index,
        "hometown_county": worker.hometown_county,
        "hometown_township": worker.hometown_township,
        "current_address": worker.current_address,
    }
    missing.extend(name for name in REQUIRED_FIELDS if not values[name])
    return missing


def record_consent(worker, version):
    """Record consent to the current privacy notice; an outdated version is refused."""
    current = current_app.config["PRIVACY_NOTICE_VERSION"]
    if version != current:
        raise Invalid(
            "consent_version_mismatch",
            "隐私说明已更新，请阅读最新版本后再同意",
            fields={"consent_version": f"当前版本为 {current}"},
        )
    worker.consent_version = version
    worker.consent_at = utcnow()


def update_profile(worker, changes):
    """Apply a partial profile update and commit.

    Personal fields are accepted only with consent, given now or before.
    Raises Invalid for a bad ID number, mobile or county, Conflict when the
    ID number already belongs to another worker.
    """
    if "consent_version" in changes:
        record_consent(worker, changes.pop("consent_version"))
    if changes and not worker.consent_version:
        raise Invalid("consent_required", "请先阅读并同意隐私说明，再填写个人信息",
                      fields={"consent_version": "必填"})
    errors = {}
    field_cipher = crypto.cipher()
    if "id_number" in changes:
        try:
            parsed = parse_id_number(changes.pop("id_number"))
        except InvalidIdentity as error:
            errors["id_number"] = str(error)
        else:
            index = field_cipher.blind_index(parsed.value, "worker.id_number")
            owner = id_number_owner(index)
            if owner is not None and owner != worker.id:
                raise Conflict("id_number_taken", "该身份证号已被其他账号登记，如有疑问请联系所在县区",
                               fields={"id_number": "已被其他账号登记"})
            worker.id_number_cipher = field_cipher.encrypt(parsed.value, "worker.id_number")
            worker.id_number_index = index
            worker.id_number_mask = mask_id_number(parsed.value)
            worker.birth_date = parsed.birth_date
            worker.gender = parsed.gender
    if "mobile" in changes:
        try:
            mobile = parse_mobile(changes.pop("mobile"))
        except InvalidIdentity as error:
            errors["mobile"] = str(error)
        else:
            worker.mobile_cipher = field_cipher.encrypt(mobile, "worker.mobile")
            worker.mobile_index = field_cipher.blind_index(mobile, "worker.mobile")
            worker.mobile_mask = mask_mobile(mobile)
    if "employer_id" in changes:
        employer_id = changes.pop("employer_id")
        if employer_id is not None and db.session.get(Enterprise, employer_id) is None:
            errors["employer_id"] = "没有这家企业"
        else:
            worker.employer_id = employer_id
    if "employer_name" in changes:
        worker.employer_name = changes.pop("employer_name")
    if errors:
        raise Invalid("validation_error", "个人信息有误，请检查各字段", fields=errors)
    for name in _PLAIN_FIELDS:
        if name in changes:
            setattr(worker, name, changes[name])
    try:
        db.session.commit()
    except IntegrityError:
        # Two accounts saving the same ID number at the same moment: the unique index decides.
        db.session.rollback()
        raise Conflict("id_number_taken", "该身份证号已被其他账号登记，如有疑问请联系所在县区",
                       fields={"id_number": "已被其他账号登记"}) from None
    return worker

