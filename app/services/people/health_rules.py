"""The health rules, in one place: from a worker's health record to green, yellow or red.

Pure functions over plain values, so the server, the offline verifier and the tests
all decide the same way. Thresholds come from configuration (`HealthRules.from_config`).

- fever (temperature at or above FEVER_THRESHOLD) → red, isolation required
- any listed symptom, or contact with a confirmed/suspected case → red
- having passed through a HIGH_RISK_AREAS place → yellow for OBSERVATION_DAYS
- otherwise green; no observation at all → unknown (请先健康申报)

`certificate_basis` decides whether a health certificate (健康证明) may be issued and on what
basis: a recent pre-trip temperature check below the fever threshold, green status, no open
isolation order.

A red or yellow lasts until a later `isolation_end` or `clearance` event releases it
(recorded by a health officer); a yellow also ends by itself when its observation
period is over. Nothing is overwritten: each observation is its own HealthEvent.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from app.services.platform.timeutil import local_day

SYMPTOMS = {
    "fever": "发热",
    "cough": "咳嗽",
    "fatigue": "乏力",
    "sore_throat": "咽痛",
    "diarrhoea": "腹泻",
    "shortness_of_breath": "呼吸困难",
    "muscle_pain": "肌肉酸痛",
    "loss_of_smell_or_taste": "嗅觉或味觉减退",
}

RELEASING_KINDS = ("isolation_end", "clearance")

_MESSAGES = {
    "no_declaration": "尚未进行健康申报，请先申报",
    "fever": "体温{temperature}℃，达到或超过{threshold}℃，需隔离观察",
    "symptoms": "有{symptoms}症状，需隔离观察",
    "contact": "与确诊或疑似病例有接触史，需隔离观察",
    "isolation": "正在隔离观察中",
    "high_risk_area": "近期到过疫情较重地区（{places}），需健康观察至{until}",
    "released": "隔离或观察已解除",
    "normal": "健康状况正常",
}


@dataclass(frozen=True)
class HealthRules:
    """The configurable thresholds of the rules."""

    fever_threshold: Decimal = Decimal("37.3")
    observation_days: int = 14
    high_risk_areas: tuple = ("湖北", "武汉")
    certificate_check_max_age_hours: int = 48  # how recent a pre-trip check must be for a certificate

    @classmethod
    def from_config(cls, config):
        """Build the rules from a Flask config mapping."""
        return cls(
            fever_threshold=Decimal(str(config["FEVER_THRESHOLD"])),
            observation_days=int(config["OBSERVATION_DAYS"]),
            high_risk_areas=tuple(config["HIGH_RISK_AREAS"]),
            certificate_check_max_age_hours=int(config.get("CERTIFICATE_CHECK_MAX_AGE_HOURS", 48)),
        )


@dataclass(frozen=True)
class Observation:
    """What one health event says, stripped of storage: the rules' only input."""

    kind: str
    occurred_at: datetime
    temperature: Decimal | None = None
    symptoms: tuple = ()
    contact_with_case: bool = False
    places: tuple = ()


@dataclass
class HealthStatus:
    """A derived status with its machine-readable reason and a Chinese explanation."""

    status: str  # green | yellow | red | unknown
    reason: str
    message: str
    since: datetime | None = None
    until: datetime | None = None
    details: dict = field(default_factory=dict)


def assess(observation, rules):
    """Judge one observation alone: returns (status, reason, details).

    This is what a scanner applies at the door: fever, symptoms and contact are red,
    a high-risk place is yellow, anything else green.
    """
    if observation.kind in RELEASING_KINDS:
        return "green", "released", {}
    if observation.kind == "isolation_start":
        return "red", "isolation", {}
    if observation.temperature is not None and observation.temperature >= rules.fever_threshold:
        return "red", "fever", {
            "temperature": str(observation.temperature),
            "threshold": str(rules.fever_threshold),
        }
    if observation.symptoms:
        names = "、".join(SYMPTOMS.get(code, code) for code in observation.symptoms)
        return "red", "symptoms", {"symptoms": names}
    if observation.contact_with_case:
        return "red", "contact", {}
    risky = [place for place in observation.places if in_high_risk_area(place, rules)]
    if risky:
        return "yellow", "high_risk_area", {"places": "、".join(risky)}
    return "green", "normal", {}


def in_high_risk_area(place, rules):
    """Whether a place name falls in one of the configured high-risk areas."""
    return any(area and area in place for area in rules.high_risk_areas)


def derive_status(observations, rules, now):
    """Derive a worker's current status from their whole record.

    Args:
        observations: iterable of Observation, any order.
        rules: HealthRules.
        now: naive UTC datetime, the moment the status is asked for.
    Returns:
        HealthStatus. Red holds until released; yellow until released or expired.
    """
    ordered = sorted(observations, key=lambda item: item.occurred_at)  # stable: ties keep input order
    return settle(fold(ordered, rules), now)


def fold(ordered, rules, current=None):
    """The status a record leaves, taking observations oldest first from `current` (None: an empty record).

    Expiry is not applied (see `settle`), so a later observation can be folded into the result:
    `settle(fold([c], rules, fold([a, b], rules)), now)` is `derive_status([a, b, c], rules, now)`
    for c not older than a and b.
    """
    for observation in ordered:
        if current is None:
            current = _status("green", "normal", {}, since=observation.occurred_at)
        status, reason, details = assess(observation, rules)
        if reason == "released":
            current = _status("green", "released", {}, since=observation.occurred_at)
        elif status == "red" and current.status != "red":
            current = _status("red", reason, details, since=observation.occurred_at)
        elif status == "yellow" and current.status != "red":
            until = observation.occurred_at + timedelta(days=rules.observation_days)
            if current.status != "yellow" or until > current.until:
                details = {**details, "until": local_day(until).isoformat()}
                current = _status("yellow", reason, details, since=observation.occurred_at, until=until)
    return current


def settle(current, now):
    """The status as of `now` of what `fold` left: unknown for an empty record, an expired yellow back to green."""
    if current is None:
        return _status("unknown", "no_declaration", {})
    if current.status == "yellow" and current.until <= now:
        return _status("green", "normal", {}, since=current.until)
    return current


def _status(status, reason, details, since=None, until=None):
    message = _MESSAGES[reason].format(**details) if details else _MESSAGES[reason]
    return HealthStatus(status, reason, message, since=since, until=until, details=details)


# The health events that count as a pre-trip temperature check for a certificate: one a health
# officer records (行前体温检测), or the captain's boarding scan.
CERTIFICATE_CHECK_KINDS = ("pre_trip_check", "boarding")

CERTIFICATE_MISSING = {
    "pre_trip_check_required": "需要行前体温检测（{hours}小时内）",
    "pre_trip_check_fever": "行前体温检测{temperature}℃，达到或超过{threshold}℃",
    "status_not_green": "健康状态不是绿码：{status_message}",
    "isolation_order_open": "有未结束的隔离单",
}


@dataclass(frozen=True)
class CertificateBasis:
    """Whether a certificate may be issued now and on what basis (健康证明的依据).

    `missing` holds (code, Chinese message) for each unmet condition, empty exactly when eligible.
    observation: "none" (never observed), "in_progress" (until `observation_until`, a Beijing
    date) or "completed" (a 14-day observation or an isolation that ended or was released).
    """

    missing: tuple
    status: str
    observation: str
    observation_until: date | None = None
    check_temperature: Decimal | None = None
    check_at: datetime | None = None

    @property
    def eligible(self):
        """Whether nothing is missing."""
        return not self.missing

    def as_claims(self):
        """The basis as `certificates.sign_and_store` takes it."""
        return {"status": self.status, "observation": self.observation,
                "observation_until": None if self.observation_until is None else self.observation_until.isoformat(),
                "check_temperature": self.check_temperature, "check_at": self.check_at}


def certificate_basis(observations, rules, now, open_isolation_order):
    """Decide whether a health certificate may be issued now (the issuing rule) and on what basis.

    Args:
        observations: the worker's whole record as Observation, oldest first (sorted stably by time,
            so of two at the same moment the later in the input counts as the newer).
        rules: HealthRules (fever threshold, observation days, certificate_check_max_age_hours).
        now: naive UTC datetime.
        open_isolation_order: whether the worker has a pending or active isolation order.
    Returns:
        CertificateBasis; its `missing` codes: pre_trip_check_required (no check of a kind in
        CERTIFICATE_CHECK_KINDS within the configured hours), pre_trip_check_fever (the newest
        such check is a fever), status_not_green, isolation_order_open.
    """
    ordered = sorted(observations, key=lambda item: item.occurred_at)
    status = settle(fold(ordered, rules), now)
    cutoff = now - timedelta(hours=rules.certificate_check_max_age_hours)
    checks = [item for item in ordered if item.kind in CERTIFICATE_CHECK_KINDS and item.temperature is not None
              and cutoff <= item.occurred_at <= now]
    check = checks[-1] if checks else None
    missing = []
    if check is None:
        missing.append(_missing("pre_trip_check_required", hours=rules.certificate_check_max_age_hours))
    elif check.temperature >= rules.fever_threshold:
        missing.append(_missing("pre_trip_check_fever", temperature=check.temperature,
                                threshold=rules.fever_threshold))
    if status.status != "green":
        missing.append(_missing("status_not_green", status_message=status.message))
    if open_isolation_order:
        missing.append(_missing("isolation_order_open"))
    observation, until = _observation_state(ordered, status, rules)
    return CertificateBasis(tuple(missing), status.status, observation, until,
                            None if check is None else check.temperature,
                            None if check is None else check.occurred_at)


def _observation_state(ordered, status, rules):
    """The 14-day observation state: in progress while yellow, completed once one ended or was released."""
    if status.status == "yellow":
        return "in_progress", local_day(status.until)
    observed = any(item.kind == "isolation_start" or assess(item, rules)[0] == "yellow" for item in ordered)
    return ("completed" if observed else "none"), None


def _missing(code, **details):
    return code, CERTIFICATE_MISSING[code].format(**details)
