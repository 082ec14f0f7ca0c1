"""The worker's health record (健康档案): declarations in, status and history out."""
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from blinker import Namespace
from flask import current_app
from sqlalchemy import select

from app.errors import Invalid
from app.extensions import db
from app.models import Checkpoint, HealthEvent, ScanEvent, StaffUser, Worker
from app.models.base import utcnow
from app.services.people import clearance, content_security, workers
from app.services.people.health_rules import SYMPTOMS, HealthRules, Observation, assess, derive_status
from app.services.people.identity import mask_name

# Sent with (worker_id=, reason=) inside the transaction that records a finding leaving the worker not green
# (red: "positive_finding"; yellow, a high-risk place: "observation") from a layer below the credentials (a
# self-declaration): the issuer's certificates, which say green, listen and revoke (app/services/credentials).
# Layers above credentials call `certificates.withdraw` directly.
finding = Namespace().signal("health-finding")
FINDING_REASONS = {"red": "positive_finding", "yellow": "observation"}


def rules():
    """The health rules configured for this app."""
    config = current_app.config
    return _rules(config["FEVER_THRESHOLD"], config["OBSERVATION_DAYS"], tuple(config["HIGH_RISK_AREAS"]),
                  config["CERTIFICATE_CHECK_MAX_AGE_HOURS"])


@lru_cache(maxsize=16)
def _rules(fever_threshold, observation_days, high_risk_areas, certificate_check_max_age_hours):
    # Every scan asks; built once per configuration (tests change the configuration).
    return HealthRules.from_config({"FEVER_THRESHOLD": fever_threshold, "OBSERVATION_DAYS": observation_days,
                                    "HIGH_RISK_AREAS": high_risk_areas,
                                    "CERTIFICATE_CHECK_MAX_AGE_HOURS": certificate_check_max_age_hours})


def to_observation(event):
    """What the rules need to know of a stored event."""
    return Observation(
        kind=event.kind,
        occurred_at=event.occurred_at,
        temperature=event.temperature,
        symptoms=tuple(event.symptoms or ()),
        contact_with_case=bool(event.contact_with_case),
        places=tuple(event.places or ()),
    )


def events_of(worker_id):
    """The worker's health events, newest first."""
    return db.session.scalars(
        select(HealthEvent)
        .where(HealthEvent.worker_id == worker_id)
        .order_by(HealthEvent.occurred_at.desc(), HealthEvent.id.desc())
    ).all()


def observations_by_worker(worker_ids):
    """{worker_id: [Observation, oldest first]} for many workers in one query."""
    records = {worker_id: [] for worker_id in worker_ids}
    if records:
        for event in db.session.scalars(select(HealthEvent).where(HealthEvent.worker_id.in_(records))
                                        .order_by(HealthEvent.occurred_at, HealthEvent.id)):
            records[event.worker_id].append(to_observation(event))
    return records


def status_of(worker_id, events=None):
    """Derive the worker's current HealthStatus from their record (events newest first, as events_of gives)."""
    events = events_of(worker_id) if events is None else events
    # Oldest first; the rules sort stably, so events of the same second keep their insertion order.
    return derive([to_observation(event) for event in reversed(events)])


def derive(observations):
    """The status the configured rules derive from observations (oldest first) as of now."""
    return derive_status(observations, rules(), utcnow())


def reading(temperature):
    """A temperature as a thermometer shows it: one decimal, rounded half up (37.25 → 37.3)."""
    return None if temperature is None else Decimal(str(temperature)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def declare(worker, temperature, symptoms, contact_with_case, places):
    """Record a self-declaration (健康申报) as a health event and commit.

    The temperature is kept to one decimal, rounded half up, as a thermometer shows it
    (37.25 becomes 37.3: a borderline reading errs on the side of caution).

    Raises Invalid without consent to the privacy notice or for an unknown symptom.
    Returns (event, HealthStatus after it).
    """
    if not workers.has_current_consent(worker):
        raise Invalid("consent_required", "请先阅读并同意最新的隐私说明，再进行健康申报")
    unknown = [code for code in symptoms if code not in SYMPTOMS]
    if unknown:
        raise Invalid("validation_error", "症状不在可选范围内",
                      fields={"symptoms": "可选：" + "、".join(SYMPTOMS)})
    verdicts = content_security.screen_declaration(worker, places)  # a risky place name saves nothing
    now = utcnow()
    event = HealthEvent(
        worker_id=worker.id,
        kind="declaration",
        occurred_at=now,
        recorded_at=now,
        temperature=reading(temperature),
        symptoms=sorted(set(symptoms)),
        contact_with_case=contact_with_case,
        places=[place.strip() for place in places if place.strip()],
        actor_kind="worker",
        actor_id=worker.id,
    )
    db.session.add(event)
    content_security.record(worker, verdicts)
    found = assess(to_observation(event), rules())[0]
    if found in FINDING_REASONS:
        finding.send(current_app._get_current_object(), worker_id=worker.id, reason=FINDING_REASONS[found])
    db.session.commit()
    return event, status_of(worker.id)


def record_of(worker):
    """The worker's status with its reason, every event newest first with who recorded it and where,
    and their clearance to start work (方可上岗)."""
    events = events_of(worker.id)
    observations = [to_observation(event) for event in reversed(events)]
    return {**vars(derive(observations)), "history": [_with_actor(event) for event in events],
            "clearance": clearance.for_worker(worker.id, observations, rules())}


def _with_actor(event):
    view = {column.key: getattr(event, column.key) for column in HealthEvent.__table__.columns}
    view["actor"] = _actor_label(event)
    if event.scan_event_id and not event.location:
        checkpoint = db.session.scalar(
            select(Checkpoint.name).join(ScanEvent, ScanEvent.checkpoint_id == Checkpoint.id)
            .where(ScanEvent.id == event.scan_event_id))
        view["location"] = checkpoint
    return view


def _actor_label(event):
    """Who recorded an event, as the worker reads it: 本人, 车长 王*, 银川火车站 工作人员."""
    if event.actor_kind == "worker":
        return "本人"
    if event.actor_kind == "captain":
        captain = db.session.get(Worker, event.actor_id)
        return f"车长 {mask_name(captain.name)}" if captain and captain.name else "车长"
    staff = db.session.get(StaffUser, event.actor_id) if event.actor_id else None
    if staff is not None and staff.checkpoint_id:
        return f"{db.session.get(Checkpoint, staff.checkpoint_id).name} 工作人员"
    return "工作人员"


def latest_declaration_within(events, hours):
    """The newest declaration no older than `hours`, or None."""
    cutoff = utcnow() - timedelta(hours=hours)
    for event in events:
        if event.kind == "declaration" and event.occurred_at >= cutoff:
            return event
    return None
