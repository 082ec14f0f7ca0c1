"""The issuing rule of health certificates (health_rules.certificate_basis): pure, no app."""
from datetime import date, datetime, timedelta
from decimal import Decimal

from app.services.people.health_rules import HealthRules, Observation, certificate_basis

RULES = HealthRules(fever_threshold=Decimal("37.3"), observation_days=14, high_risk_areas=("湖北",),
                    certificate_check_max_age_hours=48)
NOW = datetime(2020, 2, 25, 4, 0)  # 12:00 Beijing time


def check(hours_ago, temperature="36.5", kind="pre_trip_check"):
    return Observation(kind, NOW - timedelta(hours=hours_ago), temperature=Decimal(temperature))


def codes(basis):
    return [code for code, _ in basis.missing]


def test_a_recent_normal_check_and_green_status_allow_a_certificate():
    declared = Observation("declaration", NOW - timedelta(days=3), temperature=Decimal("36.4"))
    basis = certificate_basis([check(2), declared], RULES, NOW, open_isolation_order=False)
    assert basis.eligible and basis.missing == ()
    assert (basis.status, basis.observation, basis.observation_until) == ("green", "none", None)
    assert basis.check_temperature == Decimal("36.5") and basis.check_at == NOW - timedelta(hours=2)
    assert basis.as_claims() == {"status": "green", "observation": "none", "observation_until": None,
                                 "check_temperature": Decimal("36.5"), "check_at": NOW - timedelta(hours=2)}


def test_a_boarding_scan_counts_as_the_check_and_the_newest_check_decides():
    basis = certificate_basis([check(30, "36.8", kind="boarding"), check(40, "36.2")], RULES, NOW, False)
    assert basis.eligible and basis.check_temperature == Decimal("36.8")


def test_no_check_or_one_too_old_asks_for_a_pre_trip_check():
    declared = Observation("declaration", NOW - timedelta(hours=1), temperature=Decimal("36.5"))
    for record in ([declared], [declared, check(49)], [declared, check(1, kind="follow_up")]):
        basis = certificate_basis(record, RULES, NOW, False)
        assert codes(basis) == ["pre_trip_check_required"] and not basis.eligible
        assert basis.missing[0][1] == "需要行前体温检测（48小时内）"


def test_the_check_age_is_configurable():
    lenient = HealthRules(certificate_check_max_age_hours=72)
    assert certificate_basis([check(49)], lenient, NOW, False).eligible
    assert codes(certificate_basis([check(49)], RULES, NOW, False)) == ["pre_trip_check_required"]


def test_a_fever_at_the_check_refuses_and_says_why():
    basis = certificate_basis([check(1, "37.3")], RULES, NOW, False)
    assert codes(basis) == ["pre_trip_check_fever", "status_not_green"]
    assert "37.3" in basis.missing[0][1] and basis.status == "red"


def test_an_open_isolation_order_refuses():
    assert codes(certificate_basis([check(1)], RULES, NOW, open_isolation_order=True)) == ["isolation_order_open"]


def test_an_observation_in_progress_refuses_and_is_the_basis():
    arrived = Observation("arrival", NOW - timedelta(days=3), places=("湖北武汉",))
    basis = certificate_basis([arrived, check(1)], RULES, NOW, False)
    assert codes(basis) == ["status_not_green"] and basis.status == "yellow"
    assert (basis.observation, basis.observation_until) == ("in_progress", date(2020, 3, 7))


def test_an_observation_over_or_released_is_completed():
    arrived = Observation("arrival", NOW - timedelta(days=15), places=("湖北武汉",))
    over = certificate_basis([arrived, check(1)], RULES, NOW, False)
    assert over.eligible and (over.observation, over.observation_until) == ("completed", None)
    isolated = [Observation("isolation_start", NOW - timedelta(days=20)),
                Observation("isolation_end", NOW - timedelta(days=6)), check(1)]
    released = certificate_basis(isolated, RULES, NOW, False)
    assert released.eligible and released.observation == "completed"


def test_a_red_finding_after_the_check_refuses():
    coughing = Observation("declaration", NOW - timedelta(hours=1), symptoms=("cough",))
    basis = certificate_basis([check(3), coughing], RULES, NOW, False)
    assert codes(basis) == ["status_not_green"] and "咳嗽" in basis.missing[0][1]
