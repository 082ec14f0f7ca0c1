"""Worker sign-up: WeChat login and the profile (个人信息)."""
from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from app import crypto
from app.errors import Conflict, Invalid
from app.extensions import db
from app.models import (
    Enterprise,
    HealthCertificate,
    HealthEvent,
    IsolationOrder,
    Message,
    RosterEntry,
    ScanEvent,
    VacancyInterest,
    Worker,
)
from app.models.base import utcnow
from app.services.people import content_security, wechat_phone
from app.services.people.identity import (
    InvalidIdentity,
    mask_id_number,
    mask_mobile,
    parse_id_number,
    parse_mobile,
)
from app.services.platform import audit, tokens, wechat

# Fields a profile must have before the worker can apply to travel.
REQUIRED_FIELDS = ("name", "id_number", "mobile", "hometown_county", "hometown_township", "current_address")
_PLAIN_FIELDS = ("name", "hometown_county", "hometown_township", "current_address", "skills", "job_intention",
                 "employer_id", "employer_name")


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
    if not has_current_consent(worker):
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


def has_current_consent(worker):
    """Whether the worker accepted the privacy notice now in force."""
    return worker.consent_version == current_app.config["PRIVACY_NOTICE_VERSION"]


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

    Personal fields are accepted only with consent to the current notice, given now or before.
    Raises Invalid for a bad ID number, mobile or employer, Conflict when the ID number
    already belongs to another worker.
    """
    if "consent_version" in changes:
        record_consent(worker, changes.pop("consent_version"))
    if changes and not has_current_consent(worker):
        raise Invalid("consent_required", "请先阅读并同意最新的隐私说明，再填写个人信息",
                      fields={"consent_version": "必填"})
    # Checked first, before anything is set or locked (claiming a registered record updates rows): a risky
    # text saves nothing, and no row lock is held while WeChat takes its time.
    fields = content_security.PROFILE_FIELDS
    verdicts = content_security.screen(worker, content_security.changed_texts(worker, changes, fields), fields)
    errors = {}
    if "id_number" in changes:
        _apply_id_number(worker, changes.pop("id_number"), errors, changes)
    if "mobile" in changes:
        try:
            _seal_mobile(worker, parse_mobile(changes.pop("mobile")), verified=False)
        except InvalidIdentity as error:
            errors["mobile"] = str(error)
    if changes.get("employer_id") is not None and db.session.get(Enterprise, changes["employer_id"]) is None:
        errors["employer_id"] = "没有这家企业"
    if errors:
        raise Invalid("validation_error", "个人信息有误，请检查各字段", fields=errors)
    for name in _PLAIN_FIELDS:
        if name in changes:
            setattr(worker, name, changes[name])
    content_security.record(worker, verdicts)
    try:
        db.session.commit()
    except IntegrityError as error:
        # Two accounts saving one ID number at the same moment: the unique index decides.
        db.session.rollback()
        if "id_number_index" in str(error.orig):
            raise _id_number_taken() from None
        raise
    return worker


def verify_mobile(worker, code):
    """Store the mobile WeChat vouches for (getPhoneNumber code), encrypted as a typed one, marked verified; commit.

    Needs consent to the current notice, as every personal field does. Raises what
    `wechat_phone.verified_mobile` raises; nothing stored changes on an error.
    """
    if not has_current_consent(worker):
        raise Invalid("consent_required", "请先阅读并同意最新的隐私说明，再填写个人信息",
                      fields={"consent_version": "必填"})
    _seal_mobile(worker, wechat_phone.verified_mobile(code), verified=True)
    audit.record("worker", worker.id, "worker.mobile_verified", "worker", worker.id)
    db.session.commit()
    return worker


def _seal_mobile(worker, mobile, verified):
    """Store a mobile encrypted, masked and indexed; a typed number other than the stored one loses the mark."""
    index = crypto.cipher().blind_index(mobile, "worker.mobile")
    if verified:
        worker.mobile_verified_at = utcnow()
    elif index != worker.mobile_index:
        worker.mobile_verified_at = None
    crypto.seal(worker, "mobile", mobile, "worker.mobile", mask_mobile, indexed=True)


def _apply_id_number(worker, raw, errors, changes):
    try:
        parsed = parse_id_number(raw)
    except InvalidIdentity as error:
        errors["id_number"] = str(error)
        return
    index = crypto.cipher().blind_index(parsed.value, "worker.id_number")
    owner = id_number_owner(index)
    if owner is not None and owner != worker.id:
        _take_over_registered(worker, db.session.get(Worker, owner), changes)
    crypto.seal(worker, "id_number", parsed.value, "worker.id_number", mask_id_number, indexed=True)
    worker.birth_date, worker.gender = parsed.birth_date, parsed.gender


def _take_over_registered(worker, owner, changes):
    """Let a worker claim the record made for them before they signed up, and see their own health record.

    Someone HR registered (零散返岗), or a checkpoint registered from another city's health
    certificate and their ID card (互认), has no openid; when they open the mini-program and give the
    same ID number, name and mobile, the
    record's events, certificates, roster rows, orders and messages move to their account and the registered
    row goes. Any mismatch is refused like a taken ID number.
    """
    by_employer, by_checkpoint = owner.registered_by is not None, owner.registered_checkpoint_id is not None
    if owner.openid is not None or not (by_employer or by_checkpoint):
        raise _id_number_taken()
    name = (changes.get("name") or worker.name or "").strip()
    try:
        mobile = parse_mobile(changes["mobile"]) if changes.get("mobile") else None
    except InvalidIdentity:
        mobile = None
    mobile_index = crypto.cipher().blind_index(mobile, "worker.mobile") if mobile else worker.mobile_index
    # Both registrations take a mobile: an ID number and a name alone are on any photo of the ID card.
    mobile_matches = mobile_index is not None and mobile_index == owner.mobile_index
    if name != owner.name or not mobile_matches:
        if by_employer:
            raise Conflict("id_number_registered_by_employer",
                           "该身份证号已由用工企业登记，请填写与企业登记一致的姓名和手机号，或联系企业核对",
                           fields={"id_number": "已由用工企业登记"})
        raise Conflict("id_number_registered_at_checkpoint",
                       "该身份证号已在卡口登记，请填写与登记一致的姓名和手机号，或联系卡口核对",
                       fields={"id_number": "已在卡口登记"})
    # Messages too: the arrival and isolation messages written while the record had no account are theirs to read.
    for model in (HealthEvent, HealthCertificate, IsolationOrder, Message, RosterEntry, ScanEvent, VacancyInterest):
        db.session.execute(update(model).where(model.worker_id == owner.id).values(worker_id=worker.id))
    db.session.execute(delete(Worker).where(Worker.id == owner.id))
    db.session.flush()
    audit.record("worker", worker.id, "worker.claim_registered", "worker", worker.id, registered_worker_id=owner.id,
                 enterprise_id=owner.registered_by, checkpoint_id=owner.registered_checkpoint_id)


def _id_number_taken():
    return Conflict("id_number_taken", "该身份证号已被其他账号登记，如有疑问请联系所在县区",
                    fields={"id_number": "已被其他账号登记"})


def of_rows(rows):
    """{worker_id: Worker} for rows that carry a worker_id (orders, content flags, …), in one query."""
    ids = {row.worker_id for row in rows}
    return {w.id: w for w in db.session.scalars(select(Worker).where(Worker.id.in_(ids)))} if ids else {}
