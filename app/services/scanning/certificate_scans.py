"""Health certificates at the checkpoint (互认): scanning one instead of a trip QR, and registering its holder.

A checkpoint officer scans a certificate (`perform_scan` sends any "FGC1:" text here) for a worker
arriving with no trip of ours: this deployment's own certificate names its worker through
HealthCertificate; a partner's names one only once its holder was registered here
(`register_arrival`, from the certificate and the ID card), through the scan that registered it.
Every scan is stored, idempotent on client_event_id; an accepted one enters the health record with
the certificate as its basis, and a fever opens a pending isolation order, as a trip scan does.
"""
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import crypto
from app.errors import Conflict, Forbidden, Invalid
from app.extensions import db
from app.models import HealthCertificate, HealthEvent, IsolationOrder, ScanEvent, Worker
from app.models.base import utcnow
from app.services.credentials import certificates, recognition
from app.services.notices import events
from app.services.people import health
from app.services.people.identity import mask_id_number, mask_mobile, mask_name, parse_card_and_mobile
from app.services.platform import audit
from app.services.scanning import checkin
from app.services.scanning.scan_rules import decide_certificate

VERIFIERS = ("checkpoint_staff", "admin")
_STATUS_WORDS = {"green": "绿码", "yellow": "黄码", "red": "红码"}


def perform_certificate_scan(scanner, scan, mode="online"):
    """Judge, store and answer a scan of a health certificate by checkpoint staff; commits.

    `scan` is normalized (`checkin.normalized`). mode "offline" (an upload): the certificate's validity is
    judged as of the scan's own scanned_at, its revocations and the trust data as they are now. Verdicts: the certificate's refusals deny with its
    reason; stale trust data or a status not green deny to be rechecked (复核); a partner's certificate
    with no worker registered here denies as certificate_unregistered; then fever or symptoms isolate.
    Raises Forbidden for anyone but checkpoint staff scanning at their checkpoint, Conflict for
    another scanner's client_event_id.
    """
    checkpoint_id = checkpoint_of(scanner, scan["kind"], scan.get("checkpoint_id"))
    replay = checkin.stored_answer(scan["client_event_id"], scanner)
    if replay is not None:
        return replay
    verification = recognition.verify(scan["qr"], now=scan["scanned_at"] if mode == "offline" else None)
    worker_id = worker_holding(verification.claims) if verification.ok else None
    status = health.status_of(worker_id).status if worker_id is not None else None
    decision = decide_certificate(verification, status, scan["kind"], scan["temperature"], scan["symptoms"],
                                  health.rules())
    return _store(scanner, scan, checkpoint_id, verification, worker_id, status, decision, mode=mode)


def register_arrival(scanner, data):
    """Register a worker arriving with another city's certificate and no record here, and record the arrival; commits.

    The certificate must verify with the ID number (its hash) and the masked name must be the name
    given; the worker is found by ID number or created (no openid, `registered_checkpoint_id`), to be
    claimed later in the mini-program. The arrival is judged as a scan the officer has rechecked.
    :param data: client_event_id, device_id, scanned_at, qr, id_number, name, mobile?, temperature, symptoms, location?
    :raises Invalid: bad ID number or mobile; certificate_refused (details.reason) when the certificate is refused.
    :raises Conflict: identity_mismatch when the name differs from the certificate's or the record's.
    """
    scan = checkin.normalized({**data, "kind": "arrive"})
    checkpoint_id = checkpoint_of(scanner, "arrive", None)
    replay = checkin.stored_answer(scan["client_event_id"], scanner)
    if replay is not None:
        return replay
    id_number, mobile = _identity(data)
    name = data["name"].strip()
    verification = recognition.verify(scan["qr"], id_number=id_number.value, name=name)
    if verification.reason == "id_mismatch" and mask_name(name) != verification.claims.name:
        raise Conflict("identity_mismatch", "姓名与健康证明不符，请核对身份证", fields={"name": "与健康证明不符"})
    if verification.verdict == "reject":
        raise Invalid("certificate_refused", verification.message, details={"reason": verification.reason})
    worker, created = _worker_for(id_number, mobile, name, checkpoint_id)
    status = "unknown" if created else health.status_of(worker.id).status
    if verification.claims.status == "red":  # red where they came from: isolation here, whatever the thermometer says
        status = "red"
    decision = decide_certificate(verification, status, "arrive", scan["temperature"], scan["symptoms"],
                                  health.rules(), rechecked=True)
    audit.record("staff", scanner.id, "worker.register_at_checkpoint", "worker", worker.id, created=created,
                 checkpoint_id=checkpoint_id, issuer=verification.claims.issuer, serial=verification.claims.serial)
    extra = {"worker": {"id": worker.id, "name": mask_name(worker.name), "id_number": worker.id_number_mask,
                        "created": created}}
    return _store(scanner, scan, checkpoint_id, verification, worker.id, status, decision, extra, id_checked=True)


def verify_for(scanner, qr, id_number=None, name=None):
    """The verify route's answer for checkpoint staff or the admin (`recognition.answer`); others are Forbidden.

    An ID number is matched together with the name on the card (the certificate's hash covers both)."""
    if scanner.kind != "staff" or scanner.role not in VERIFIERS:
        raise Forbidden("forbidden_role", "只有卡口工作人员和管理员可以核验健康证明")
    verification = recognition.verify(qr, id_number=id_number, name=name)
    return recognition.answer(verification, id_checked=id_number is not None)


def checkpoint_of(scanner, kind, checkpoint_id):
    """The checkpoint of a certificate scan; only checkpoint staff scan certificates, at their own checkpoint."""
    if scanner.kind != "staff" or scanner.role != "checkpoint_staff":
        raise Forbidden("not_a_scanner", "健康证明由卡口工作人员核验，车长请扫乘车码")
    if kind not in checkin.CHECKPOINT_KINDS:
        raise Forbidden("kind_not_allowed", "卡口只能扫到达和卡口检查")
    if checkpoint_id not in (None, scanner.checkpoint_id):
        raise Forbidden("wrong_checkpoint", "只能为本卡口扫码")
    return scanner.checkpoint_id


def worker_holding(claims):
    """The worker here who holds a genuine certificate, or None (a partner's not registered yet)."""
    if claims.issuer == current_app.config["DEPLOYMENT_ID"]:
        return db.session.scalar(select(HealthCertificate.worker_id).where(HealthCertificate.id == claims.serial))
    return db.session.scalar(
        select(ScanEvent.worker_id).where(ScanEvent.certificate_issuer == claims.issuer,
                                          ScanEvent.certificate_serial == claims.serial,
                                          ScanEvent.worker_id.is_not(None)).limit(1))


def basis_note(claims, issuer_name):
    """The health record's note naming the certificate as the basis: 依据：<issuer>健康证明 No.<serial>（<status>…）."""
    said = _STATUS_WORDS.get(claims.status, claims.status)
    if claims.check_temperature is not None:
        said += f"，行前体温 {claims.check_temperature / 10:.1f}℃"
    return f"依据：{issuer_name or claims.issuer}健康证明 No.{claims.serial}（{said}）"


def _store(scanner, scan, checkpoint_id, verification, worker_id, status, decision, extra=None, mode="online",
           id_checked=False):
    """Store the scan, its health event and isolation order when accepted; commit and answer."""
    claims = verification.claims
    event = SimpleNamespace(
        client_event_id=scan["client_event_id"], kind=scan["kind"], mode=mode, scanned_at=scan["scanned_at"],
        received_at=utcnow(), device_id=scan["device_id"], actor_kind=scanner.kind, actor_id=scanner.id,
        checkpoint_id=checkpoint_id, location=scan.get("location"), serial=None, trip_id=None, seat_id=None,
        worker_id=worker_id, temperature=scan["temperature"], symptoms=scan["symptoms"], verdict=decision.verdict,
        reason=decision.reason, conflict=False, conflict_reason=None, boarded_seat_id=None, arrived_seat_id=None,
        certificate_issuer=claims.issuer if claims else None, certificate_serial=claims.serial if claims else None,
    )
    event.answer = _answer(event, decision, verification, status, extra, id_checked)
    row = ScanEvent(**vars(event))
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:  # the same client_event_id stored by a request racing this one
        db.session.rollback()
        replay = checkin.stored_answer(scan["client_event_id"], scanner)
        if replay is None:
            raise
        return replay
    event.id = row.id
    if decision.accepted:
        _record_health(event, decision, scanner, basis_note(claims, verification.issuer.name),
                       rechecked=id_checked and verification.verdict == "recheck")
    db.session.commit()
    return {**event.answer, "event_id": row.id}


def _record_health(event, decision, scanner, note, rechecked=False):
    db.session.add(HealthEvent(**{**checkin.health_event(event, scanner), "note": note}))
    if decision.verdict == "isolate":
        # A fever at the door voids any certificate this deployment issued the worker, as a trip scan's does.
        certificates.withdraw(event.worker_id, "positive_finding")
    order = None
    if decision.verdict == "isolate" and not db.session.scalar(select(IsolationOrder.id).where(
            IsolationOrder.worker_id == event.worker_id, IsolationOrder.status.in_(("pending", "active"))).limit(1)):
        order = checkin.isolation_order(event)
        db.session.add(order)
    events.scans_accepted([(event, decision, order)], rechecked=rechecked)


def _answer(event, decision, verification, status, extra, id_checked=False):
    """A scan's answer (as for a trip QR, passenger None) with the certificate and the trust data's age."""
    health_now = None
    if event.worker_id is not None:
        health_now = ({"status": "red", "reason": decision.reason} if decision.verdict == "isolate"
                      else {"status": status, "reason": None})
    return {"client_event_id": event.client_event_id, "verdict": decision.verdict, "reason": decision.reason,
            "message": decision.message, "conflict": False, "passenger": None, "health": health_now,
            **{part: shown for part, shown in recognition.answer(verification, id_checked).items()
               if part in ("certificate", "trust")},
            # A genuine certificate (even one to recheck: stale trust data) whose holder has no record here.
            "registrable": verification.ok and event.worker_id is None,
            **(extra or {})}


def _identity(data):
    id_number, mobile, errors = parse_card_and_mobile(data["id_number"], data.get("mobile"))
    if errors:
        raise Invalid("validation_error", "身份信息有误，请检查各字段", fields=errors)
    return id_number, mobile


def _worker_for(id_number, mobile, name, checkpoint_id):
    """The worker with this ID number, or a new one registered at the checkpoint: (worker, created)."""
    index = crypto.cipher().blind_index(id_number.value, "worker.id_number")
    worker = _known(index, name)
    if worker is not None:
        return worker, False
    worker = Worker(openid=None, registered_checkpoint_id=checkpoint_id, name=name, birth_date=id_number.birth_date,
                    gender=id_number.gender)
    crypto.seal(worker, "id_number", id_number.value, "worker.id_number", mask_id_number, indexed=True)
    crypto.seal(worker, "mobile", mobile, "worker.mobile", mask_mobile, indexed=True)
    db.session.add(worker)
    try:
        db.session.flush()
    except IntegrityError:  # registered at this moment by another officer (nothing else is written yet): theirs
        db.session.rollback()
        return _known(index, name), False
    return worker, True


def _known(index, name):
    """The worker holding an ID number's blind index, if their name is the one given (else identity_mismatch)."""
    worker = db.session.scalar(select(Worker).where(Worker.id_number_index == index))
    if worker is not None and worker.name and worker.name != name:
        raise Conflict("identity_mismatch", "身份证号与本地登记的姓名不符，请核对后再登记",
                       fields={"name": "与身份证号登记的姓名不符"})
    return worker
