"""The scan rules, in one place: what a scanner decides for one QR code.

Pure functions over plain values: the server (`checkin.perform_scan`) and the offline
verifier (`python -m checkin.offline`) both call `decide`, so they cannot disagree.
Checks, in order: the credential; the seat and trip; the sequence; health.
"""
from dataclasses import dataclass

from app.services.people.health_rules import Observation, assess

MESSAGES = {
    "ok": "核验通过",
    "invalid": "二维码无效或已被篡改",
    "unknown_key": "二维码签发密钥不受信任",
    "expired": "二维码已过期",
    "not_yet_valid": "二维码尚未生效",
    "revoked": "二维码已作废（座位已调整或取消）",
    "wrong_trip": "该乘客不属于本车次",
    "trip_closed": "本车次已结束",
    "already_boarded": "该乘客已上车",
    "not_boarded": "该乘客没有上车记录",
    "already_arrived": "该乘客已登记到达",
    "fever": "体温异常（{temperature}℃），请按规定隔离观察",
    "symptoms": "有{symptoms}症状，请按规定隔离观察",
    "contact": "有接触史，请按规定隔离观察",
    "isolation_required": "健康状态为红码，请按规定隔离观察",
    "certificate_unregistered": "外地健康证明持有人尚未在本地登记，请核对身份证后登记",
}

# Refusals of a genuine credential that a person should look into on the spot (a second scan, a bus not
# expected here, no boarding record): a scan station shows them as 复核, apart from forged or void codes (拒绝).
# A health certificate adds three: the issuer's trust data is stale, the status it carries is not green, and a
# partner's certificate whose holder is not registered here yet (核对身份证后登记).
RECHECK_REASONS = ("wrong_trip", "trip_closed", "already_boarded", "not_boarded", "already_arrived",
                   "trust_stale", "not_green", "certificate_unregistered")


@dataclass(frozen=True)
class SeatFacts:
    """What is known about the seat a credential names, at the time of the scan."""

    serial: int
    trip_id: int
    worker_id: int
    live: bool  # the seat is still assigned (not moved or cancelled)
    trip_closed: bool
    boarded: bool
    arrived: bool
    health_status: str  # green | yellow | red | unknown, before this scan


@dataclass(frozen=True)
class Decision:
    """A scan's verdict (allow | deny | isolate), its machine-readable reason and Chinese message."""

    verdict: str
    reason: str
    message: str

    @property
    def accepted(self):
        """Whether the passenger was processed (allowed or sent to isolation), not refused."""
        return self.verdict != "deny"


def decide(verification, seat, kind, temperature, symptoms, allowed_trip_ids, rules):
    """Decide one scan.

    Args:
        verification: `credentials.Verification` of the QR text, as of the scan time.
        seat: SeatFacts for the credential's serial, or None when no such seat exists.
        kind: "board" | "arrive" | "checkpoint".
        temperature: Decimal or None; symptoms: tuple of symptom codes.
        allowed_trip_ids: the trips this scanner may scan for, or None for any trip.
        rules: `health_rules.HealthRules`.
    Returns a Decision; never raises for bad input.
    """
    if not verification.ok:
        return _deny(verification.reason)
    payload = verification.payload
    if seat is None or (seat.trip_id, seat.worker_id) != (payload.trip_id, payload.worker_id):
        return _deny("invalid")
    return decide_for_seat(seat, kind, temperature, symptoms, allowed_trip_ids, rules)


def decide_for_seat(seat, kind, temperature, symptoms, allowed_trip_ids, rules):
    """The rest of `decide` once the credential has held and names `seat`: the seat, the sequence, health.

    A stored scan judged again (`checkin.reconcile`) starts here: its credential was checked when it came.
    """
    if not seat.live:
        return _deny("revoked")
    if allowed_trip_ids is not None and seat.trip_id not in allowed_trip_ids:
        return _deny("wrong_trip")
    if seat.trip_closed and kind != "checkpoint":
        return _deny("trip_closed")
    if kind == "board" and seat.boarded:
        return _deny("already_boarded")
    if kind == "arrive" and not seat.boarded:
        return _deny("not_boarded")
    if kind == "arrive" and seat.arrived:
        return _deny("already_arrived")
    return _health(kind, temperature, symptoms, seat.health_status, rules)


def decide_certificate(verification, health_status, kind, temperature, symptoms, rules, rechecked=False):
    """Decide a scan of a health certificate (健康证明) instead of a trip QR.

    Args:
        verification: `health_certificate.CertificateVerification` of the QR text.
        health_status: the holder's status here before this scan, or None when no worker here holds the
            certificate (a partner's certificate not registered yet: certificate_unregistered, 复核).
        rechecked: the officer has looked in person (registering the arrival with the ID card), so a
            certificate only to be rechecked (stale trust data, not green) passes to the health checks.
    The certificate's own refusals deny with its reason; then health as for a trip scan (fever → isolate).
    """
    if verification.verdict == "reject" or (verification.verdict == "recheck" and not rechecked):
        return Decision("deny", verification.reason, verification.message)
    if health_status is None:
        return _deny("certificate_unregistered")
    return _health(kind, temperature, symptoms, health_status, rules)


def _health(kind, temperature, symptoms, health_status, rules):
    status, reason, details = assess(Observation(kind, None, temperature, tuple(symptoms)), rules)
    if status == "red":
        return Decision("isolate", reason, MESSAGES[reason].format(**details))
    if health_status == "red":
        return Decision("isolate", "isolation_required", MESSAGES["isolation_required"])
    return Decision("allow", "ok", MESSAGES["ok"])


def _deny(reason):
    return Decision("deny", reason, MESSAGES[reason])
