"""Health certificates (健康证明) this deployment issues: signing, storing, revoking, finding a worker's current one.

Issued for an outbound worker (an outbound application neither rejected nor cancelled, whose
origin county is one this deployment speaks for) by a health officer who records the pre-trip
temperature check (`issue_by_staff`), or by the rule alone (`issue_automatically`) when
CERTIFICATE_AUTO_ISSUE is on: `health_rules.certificate_basis` decides both. A new certificate
replaces the worker's previous one ("reissued"); a red finding or an isolation order revokes every
certificate in force (`withdraw`), in the transaction that records it.

Scope: a health officer with a county sees the certificates of that county and may issue for
the workers whose outbound application leaves from it; one without a county, and the admin, see all.
"""
import hashlib
import os
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import case, func, select

from app import crypto
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.models import Application, County, HealthCertificate, HealthEvent, IsolationOrder, Worker
from app.models.base import utcnow
from app.services.credentials import certificate_documents, health_certificate, signing
from app.services.people import health
from app.services.people.clearance import OPEN_ORDER_STATUSES
from app.services.people.health_rules import SYMPTOMS, assess, certificate_basis
from app.services.people.identity import InvalidIdentity, mask_name, parse_id_number
from app.services.platform import audit, cache, scope
from app.services.platform.timeutil import iso_local

OFFICERS = ("admin", "health_officer")
LIST_STATUSES = ("valid", "revoked", "expired")
# Why a health officer revokes a certificate by hand (the automatic reasons are isolation, positive_finding,
# observation and reissued).
STAFF_REVOKE_REASONS = {"issued_in_error": "误签发", "positive_finding": "新的阳性发现", "isolation": "需隔离观察",
                        "worker_request": "本人申请", "other": "其他原因"}
AUTO_MISSING = {
    "auto_issue_disabled": "本地不自动出具健康证明，请联系县区卫健部门",
    "no_outbound_application": "需要有效的外出务工报名",
    "county_not_served": "报名的出发县区不由本地出具健康证明",
}
_PNG_SECONDS = 24 * 3600  # a certificate's text never changes: its PNG may be kept as long as it is shown


def sign_and_store(worker, county_code, basis, by_kind, by_id=None, now=None):
    """Sign a certificate for a worker and add it to the session (the caller commits); returns the row.

    :param basis: {"status", "observation", "observation_until" (ISO date or None),
        "check_temperature" (Decimal or None), "check_at" (naive UTC datetime or None)}.
    :param by_kind: "staff" (a health officer issued it) or "rule" (the automatic rule did).
    :raises Unavailable: when there is no certificate key (`flask keys ensure`).
    """
    now = (now or utcnow()).replace(microsecond=0)
    key = signing.active_key("certificate")
    id_number = crypto.cipher().decrypt(worker.id_number_cipher, "worker.id_number")
    salt = os.urandom(health_certificate.SALT_BYTES)
    row = HealthCertificate(worker_id=worker.id, county_code=county_code, kid=key.kid, issued_at=now,
                            valid_until=now + timedelta(days=current_app.config["CERTIFICATE_VALID_DAYS"]),
                            issued_by_kind=by_kind, issued_by_id=by_id, basis=_stored_basis(basis), text="")
    db.session.add(row)
    db.session.flush()  # the id is the serial the signature covers
    claims = health_certificate.CertificateClaims(
        issuer=current_app.config["DEPLOYMENT_ID"], serial=row.id, county=county_code,
        issued_at=_unix(row.issued_at), valid_until=_unix(row.valid_until), name=mask_name(worker.name),
        id_last4=worker.id_last4, id_salt=salt, id_hash=health_certificate.id_hash(id_number, worker.name, salt),
        status=basis["status"], observation=basis["observation"],
        check_temperature=None if basis.get("check_temperature") is None
        else int(round(basis["check_temperature"] * 10)),
        check_at=None if basis.get("check_at") is None else _unix(basis["check_at"]),
        observation_until=basis.get("observation_until"),
    )
    row.text = health_certificate.issue_certificate(signing.private_key_of(key), claims)
    return row


def current_for(worker_id, now=None, lock=False):
    """The worker's newest certificate still valid and not revoked, or None.

    lock: a locking read, which on MariaDB sees what a concurrent request committed while this one
    waited for the worker's lock (a plain read answers from the transaction's older snapshot).
    """
    now = now or utcnow()
    statement = (select(HealthCertificate)
                 .where(HealthCertificate.worker_id == worker_id, HealthCertificate.revoked_at.is_(None),
                        HealthCertificate.valid_until >= now)
                 .order_by(HealthCertificate.issued_at.desc(), HealthCertificate.id.desc()).limit(1))
    return db.session.scalar(statement.with_for_update() if lock else statement)


def revoke(certificate, reason):
    """Revoke a certificate: it joins the revocation list (kind "certificate"). Idempotent; the caller commits."""
    if certificate.revoked_at is None:
        certificate.revoked_at = utcnow()
        certificate.revoke_reason = reason
        signing.revoke_serial(certificate.id, reason, kind="certificate")


def revoke_all_for(worker_id, reason):
    """Revoke every certificate of a worker still in force (a new positive finding, an isolation order); returns them."""
    # A locking read: it sees (and revokes) a certificate a concurrent request has just committed.
    rows = db.session.scalars(
        select(HealthCertificate).where(HealthCertificate.worker_id == worker_id,
                                        HealthCertificate.revoked_at.is_(None),
                                        HealthCertificate.valid_until >= utcnow()).with_for_update()
    ).all()
    for row in rows:
        revoke(row, reason)
    return rows


def _stored_basis(basis):
    return {"status": basis["status"], "observation": basis["observation"],
            "observation_until": basis.get("observation_until"),
            "check_temperature": None if basis.get("check_temperature") is None else str(basis["check_temperature"]),
            "check_at": None if basis.get("check_at") is None else basis["check_at"].replace(tzinfo=UTC).isoformat()}


def _unix(moment):
    return int(moment.replace(tzinfo=UTC).timestamp() if isinstance(moment, datetime) else moment)


def basis_for(worker_id, now=None):
    """The issuing rule applied to a worker's record now: a health_rules.CertificateBasis."""
    now = now or utcnow()
    events = health.events_of(worker_id)
    open_order = db.session.scalar(select(IsolationOrder.id).where(
        IsolationOrder.worker_id == worker_id, IsolationOrder.status.in_(OPEN_ORDER_STATUSES)).limit(1))
    # Oldest first: the rule sorts stably, so two checks of the same second keep the order they were recorded in.
    return certificate_basis([health.to_observation(event) for event in reversed(events)], health.rules(), now,
                             open_order is not None)


def outbound_application(worker_id, county_code=None):
    """The worker's newest outbound application neither rejected nor cancelled (from a county if given), or None."""
    statement = select(Application).where(Application.worker_id == worker_id, Application.direction == "outbound",
                                          Application.status.not_in(("rejected", "cancelled")))
    if county_code:
        statement = statement.where(Application.county_code == county_code)
    return db.session.scalar(statement.order_by(Application.created_at.desc(), Application.id.desc()).limit(1))


def issue_by_staff(staff, worker_id, temperature, symptoms=()):
    """Record a health officer's pre-trip check (行前体温检测) and issue a certificate if the rule then allows; commit.

    The check enters the health record whatever it shows (a fever revokes certificates in force).
    Returns the new HealthCertificate. Raises Forbidden (not a health officer or admin), NotFound
    (worker_not_found: no such worker, or none of the officer's county), Invalid (unknown symptom),
    Conflict certificate_not_eligible with details {"missing": [{code, message}]} (the check is kept),
    Unavailable when there is no certificate key.
    """
    scope.require_role(staff, OFFICERS)
    unknown = [code for code in symptoms if code not in SYMPTOMS]
    if unknown:
        raise Invalid("validation_error", "症状不在可选范围内", fields={"symptoms": "可选：" + "、".join(SYMPTOMS)})
    county = staff.county_code if staff.role == "health_officer" else None
    worker = db.session.get(Worker, worker_id, with_for_update=True, populate_existing=True)
    application = outbound_application(worker_id, county) if worker is not None else None
    if worker is None or (county and application is None):
        raise NotFound("worker_not_found", "没有找到该人员")
    now = utcnow().replace(microsecond=0)
    event = HealthEvent(worker_id=worker.id, kind="pre_trip_check", occurred_at=now, recorded_at=now,
                        temperature=health.reading(temperature), symptoms=sorted(set(symptoms)),
                        actor_kind="staff", actor_id=staff.id, note="行前体温检测（健康证明）")
    db.session.add(event)
    db.session.flush()
    if assess(health.to_observation(event), health.rules())[0] == "red":
        withdraw(worker.id, "positive_finding")
    basis = basis_for(worker.id, now)
    missing = _origin_missing(application) + [_item(code, message) for code, message in basis.missing]
    if missing:
        db.session.commit()  # the check is part of the record even when no certificate follows
        raise Conflict("certificate_not_eligible", "不符合出具健康证明的条件：" + "；".join(m["message"] for m in missing),
                       details={"missing": missing})
    row = _issue(worker, application.county_code, basis, "staff", staff.id)
    db.session.commit()
    return row


def worker_by_id_number(staff, raw):
    """The worker holding an ID number (found by its blind index) whom the officer may issue for; commits nothing.

    Raises Forbidden, Invalid (a malformed ID number, field id_number), NotFound worker_not_found: nobody
    holds it, or the holder has no outbound application from the officer's county (the same answer, so the
    page never tells whether the person is known elsewhere).
    """
    scope.require_role(staff, OFFICERS)
    try:
        id_number = parse_id_number(raw or "")
    except InvalidIdentity as error:
        raise Invalid("validation_error", "身份证号有误", fields={"id_number": str(error)}) from None
    index = crypto.cipher().blind_index(id_number.value, "worker.id_number")
    worker = db.session.scalar(select(Worker).where(Worker.id_number_index == index))
    county = staff.county_code if staff.role == "health_officer" else None
    if worker is None or (county and outbound_application(worker.id, county) is None):
        raise NotFound("worker_not_found", "没有找到该人员")
    return worker


def issue_automatically(worker):
    """Issue a certificate by the rule alone when CERTIFICATE_AUTO_ISSUE is on and the rule allows; commit.

    Returns (HealthCertificate or None, missing: [{code, message}] saying why none was issued).
    """
    if not current_app.config["CERTIFICATE_AUTO_ISSUE"]:
        return None, [_item("auto_issue_disabled", AUTO_MISSING["auto_issue_disabled"])]
    application = outbound_application(worker.id)
    basis = basis_for(worker.id)
    missing = _origin_missing(application) + [_item(code, message) for code, message in basis.missing]
    if missing:
        return None, missing
    row = _issue(worker, application.county_code, basis, "rule", None)
    db.session.commit()
    return row, []


def current_or_issue(worker):
    """The worker's current valid certificate, else one issued automatically now; what the worker's GET shows.

    Raises NotFound certificate_not_available with details {"missing": [{code, message}]}.
    """
    found = current_for(worker.id)
    if found is not None:
        return found
    # Serialize two requests of one worker, so they cannot both issue; then look again.
    db.session.get(Worker, worker.id, with_for_update=True, populate_existing=True)
    found = current_for(worker.id, lock=True)
    if found is not None:
        return found
    row, missing = issue_automatically(worker)
    if row is None:
        db.session.rollback()
        raise NotFound("certificate_not_available",
                       "暂无有效的健康证明：" + "；".join(item["message"] for item in missing),
                       details={"missing": missing})
    return row


def withdraw(worker_id, reason):
    """Revoke every certificate of a worker in force, audited, in the caller's transaction (it commits).

    :param reason: "isolation" (an isolation order was opened), "positive_finding" (a red finding) or
        "observation" (a yellow one: a high-risk place, observation ahead).
    """
    rows = revoke_all_for(worker_id, reason)
    for row in rows:
        audit.record("system", None, "certificate.revoke", "health_certificate", row.id, worker_id=worker_id,
                     reason=reason)
    return rows


@health.finding.connect
def _on_finding(sender, worker_id, reason):
    """A self-declaration leaving the worker red or yellow (recorded below the credentials) revokes their certificates."""
    withdraw(worker_id, reason)


def revoke_by_staff(staff, serial, reason, note=None):
    """Revoke a certificate by hand (reason a key of STAFF_REVOKE_REASONS) and commit; returns it.

    Raises Forbidden, NotFound (certificate_not_found, also outside the officer's county), Conflict
    certificate_already_revoked.
    """
    row = find_for_staff(staff, serial, lock=True)
    if row.revoked_at is not None:
        raise Conflict("certificate_already_revoked", "该健康证明已撤销")
    revoke(row, reason)
    audit.record("staff", staff.id, "certificate.revoke", "health_certificate", row.id, worker_id=row.worker_id,
                 reason=reason, **({"note": note} if note else {}))
    db.session.commit()
    return row


def find_for_staff(staff, serial, lock=False):
    """One certificate the staff member may see (locked if asked), or NotFound certificate_not_found."""
    statement = _scoped(select(HealthCertificate).where(HealthCertificate.id == serial), staff)
    row = db.session.scalar(statement.with_for_update() if lock else statement)
    if row is None:
        raise NotFound("certificate_not_found", "没有找到该健康证明")
    return row


def list_for_staff(staff, status=None, page=1, per_page=50, worker_id=None):
    """Certificates in the staff member's scope, newest first, by status valid | revoked | expired and worker:
    (rows, total)."""
    statement = _scoped(select(HealthCertificate), staff)
    if worker_id is not None:
        statement = statement.where(HealthCertificate.worker_id == worker_id)
    now = utcnow()
    if status == "valid":
        statement = statement.where(HealthCertificate.revoked_at.is_(None), HealthCertificate.valid_until >= now)
    elif status == "revoked":
        statement = statement.where(HealthCertificate.revoked_at.is_not(None))
    elif status == "expired":
        statement = statement.where(HealthCertificate.revoked_at.is_(None), HealthCertificate.valid_until < now)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    rows = db.session.scalars(statement.order_by(HealthCertificate.issued_at.desc(), HealthCertificate.id.desc())
                              .offset((page - 1) * per_page).limit(per_page)).all()
    return rows, total


def count_by_status(staff, worker_id=None):
    """How many certificates in the staff member's scope are valid, revoked, expired: {status: n} (one query)."""
    now = utcnow()
    status = case((HealthCertificate.revoked_at.is_not(None), "revoked"),
                  (HealthCertificate.valid_until < now, "expired"), else_="valid")
    statement = _scoped(select(status.label("status")), staff)
    if worker_id is not None:
        statement = statement.where(HealthCertificate.worker_id == worker_id)
    listed = statement.subquery()  # grouped outside: the CASE carries a parameter, which GROUP BY cannot repeat
    found = dict(db.session.execute(select(listed.c.status, func.count()).group_by(listed.c.status)).all())
    return {name: found.get(name, 0) for name in LIST_STATUSES}


def view(cert):
    """A certificate as the APIs show it: issuer, county, times (+08:00), masked identity, basis, status, QR text."""
    claims, _, _ = health_certificate.decode_certificate(cert.text)
    county = db.session.get(County, cert.county_code)
    basis = dict(cert.basis)
    basis["check_at"] = iso_local(_stored_moment(basis.get("check_at")))
    return {
        "serial": cert.id, "worker_id": cert.worker_id, "issuer": {"id": claims.issuer, "name": current_app.config["DEPLOYMENT_NAME"]},
        "county": {"code": cert.county_code, "name": county.name if county else None},
        "issued_at": iso_local(cert.issued_at), "valid_until": iso_local(cert.valid_until),
        "name": claims.name, "id_last4": claims.id_last4, "basis": basis,
        "basis_text": certificate_documents.basis_lines(basis), "status": status_of(cert),
        "revoked_at": iso_local(cert.revoked_at), "revoke_reason": cert.revoke_reason,
        "issued_by": cert.issued_by_kind, "text": cert.text,
    }


def status_of(cert, now=None):
    """valid, revoked or expired."""
    if cert.revoked_at is not None:
        return "revoked"
    return "expired" if cert.valid_until < (now or utcnow()) else "valid"


def render_png(cert):
    """The certificate's QR (alphanumeric mode, error correction M) as PNG bytes, cached."""
    # Keyed by the text, not the serial: a serial is only unique within one database.
    key = "certificate-png:" + hashlib.sha256(cert.text.encode("ascii")).hexdigest()[:32]
    png = cache.get_bytes(key)
    if png is None:
        png = certificate_documents.qr_png(cert.text)
        cache.set_bytes(key, png, _PNG_SECONDS)
    return png


def render_pdf(cert):
    """The printable A4 certificate (PDF bytes): title, issuer, masked identity, times, basis, serial, large QR."""
    return certificate_documents.pdf(view(cert), render_png(cert))


def _scoped(statement, staff):
    scope.require_role(staff, OFFICERS)
    if staff.role == "health_officer" and staff.county_code:
        return statement.where(HealthCertificate.county_code == staff.county_code)
    return statement


def _issue(worker, county_code, basis, by_kind, by_id):
    """Replace the worker's certificates in force with a new one, audited; the caller commits."""
    revoke_all_for(worker.id, "reissued")
    row = sign_and_store(worker, county_code, basis.as_claims(), by_kind, by_id)
    audit.record("staff" if by_kind == "staff" else "system", by_id, "certificate.issue", "health_certificate",
                 row.id, worker_id=worker.id, county_code=county_code)
    return row


def _origin_missing(application):
    """Why the worker's origin rules out a certificate here: no outbound application, a county not served."""
    if application is None:
        return [_item("no_outbound_application", AUTO_MISSING["no_outbound_application"])]
    if application.county_code not in current_app.config["DEPLOYMENT_COUNTIES"]:
        return [_item("county_not_served", AUTO_MISSING["county_not_served"])]
    return []


def _item(code, message):
    return {"code": code, "message": message}


def _stored_moment(value):
    return None if value is None else datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)
