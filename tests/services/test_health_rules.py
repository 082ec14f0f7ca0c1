"""The health rules, applied directly."""
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from app.services.people.health_rules import HealthRules, Observation, derive_status, fold, settle

RULES = HealthRules(fever_threshold=Decimal("37.3"), observation_days=14, high_risk_areas=("湖北", "武汉"))
T0 = datetime(2020, 2, 24, 8, 0)


def declaration(hours=0, temperature="36.5", **kwargs):
    return Observation("declaration", T0 + timedelta(hours=hours), Decimal(temperature), **kwargs)


def status(*observations, now=T0 + timedelta(hours=1)):
    return derive_status(observations, RULES, now)


def test_no_record_is_unknown():
    assert status().status == "unknown"
    assert status().reason == "no_declaration"


def test_normal_declaration_is_green():
    result = status(declaration())
    assert (result.status, result.reason) == ("green", "normal")


@pytest.mark.parametrize("temperature, expected", [("37.2", "green"), ("37.3", "red"), ("38.5", "red")])
def test_fever_threshold_is_inclusive(temperature, expected):
    assert status(declaration(temperature=temperature)).status == expected


def test_fever_reason_and_message():
    result = status(declaration(temperature="38.1"))
    assert result.reason == "fever"
    assert "38.1" in result.message and "37.3" in result.message


def test_symptoms_or_contact_are_red():
    assert status(declaration(symptoms=("cough",))).reason == "symptoms"
    assert "咳嗽" in status(declaration(symptoms=("cough",))).message
    assert status(declaration(contact_with_case=True)).reason == "contact"


def test_high_risk_place_is_yellow_until_observation_ends():
    observed = declaration(places=("湖北省武汉市",))
    result = status(observed)
    assert (result.status, result.reason) == ("yellow", "high_risk_area")
    assert result.until == T0 + timedelta(days=14)
    assert status(observed, now=T0 + timedelta(days=14, minutes=1)).status == "green"


def test_red_is_not_cleared_by_a_later_normal_declaration():
    result = status(declaration(temperature="38.0"), declaration(hours=24), now=T0 + timedelta(days=2))
    assert result.status == "red"
    assert result.reason == "fever"


def test_release_event_clears_red():
    released = Observation("isolation_end", T0 + timedelta(days=14))
    result = status(declaration(temperature="38.0"), released, now=T0 + timedelta(days=15))
    assert (result.status, result.reason) == ("green", "released")


def test_red_after_yellow_wins_and_order_of_input_does_not_matter():
    yellow = declaration(places=("武汉",))
    red = declaration(hours=5, symptoms=("fever",))
    assert status(red, yellow, now=T0 + timedelta(hours=6)).status == "red"


def test_thresholds_are_configurable():
    strict = HealthRules(fever_threshold=Decimal("37.0"), observation_days=7, high_risk_areas=("温州",))
    assert derive_status([declaration(temperature="37.1")], strict, T0).status == "red"
    assert derive_status([declaration(places=("湖北",))], strict, T0).status == "green"


RECORDS = [
    (),
    (declaration(),),
    (declaration(places=("武汉",)),),
    (declaration(places=("武汉",)), declaration(hours=3, temperature="38.2")),
    (declaration(temperature="38.0"), Observation("isolation_end", T0 + timedelta(hours=4))),
]
LATER = [declaration(hours=5), declaration(hours=5, places=("湖北",)), declaration(hours=5, symptoms=("cough",)),
         Observation("isolation_end", T0 + timedelta(hours=5))]


@pytest.mark.parametrize("record", RECORDS)
@pytest.mark.parametrize("later", LATER)
@pytest.mark.parametrize("days", [0, 20])
def test_folding_one_more_observation_is_deriving_the_whole_record(record, later, days):
    now = T0 + timedelta(hours=6, days=days)
    assert settle(fold([later], RULES, fold(record, RULES)), now) == derive_status([*record, later], RULES, now)
