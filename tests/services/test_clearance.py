"""The clearance rule (方可上岗), directly: observation period, follow-ups, isolation, release."""
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from app.services.people.clearance import decide_clearance
from app.services.people.health_rules import HealthRules, Observation
from app.services.platform.timeutil import LOCAL_ZONE

RULES = HealthRules(fever_threshold=Decimal("37.3"), observation_days=14, high_risk_areas=("湖北",))
ARRIVED = date(2020, 2, 20)


def _at(day, hour=10):
    """A Beijing-time hour of a day as naive UTC, as stored."""
    return datetime.combine(day, time(hour), LOCAL_ZONE).astimezone(UTC).replace(tzinfo=None)


def follow_up(day, temperature="36.5", symptoms=()):
    return Observation("follow_up", _at(day), Decimal(temperature), tuple(symptoms))


def arrival(day=ARRIVED, places=()):
    return Observation("arrival", _at(day, 0), places=tuple(places))


def decide(today, observations=(), order=None, arrived=ARRIVED):
    return decide_clearance(arrived, [arrival(), *observations], order, RULES, _at(today))


def test_not_arrived_without_an_arrival_or_before_it():
    assert decide_clearance(None, [], None, RULES, _at(ARRIVED)).state == "not_arrived"
    assert decide(ARRIVED - timedelta(days=1)).state == "not_arrived"


def test_in_observation_until_the_period_is_over_then_cleared():
    during = decide(ARRIVED + timedelta(days=13))
    assert (during.state, during.reason) == ("in_observation", "observation_period")
    assert during.observation_ends_on == date(2020, 3, 4) and "2020-03-04" in during.message
    normal = [follow_up(ARRIVED + timedelta(days=n)) for n in range(14)]
    cleared = decide(ARRIVED + timedelta(days=14), normal)
    assert (cleared.state, cleared.follow_ups, cleared.abnormal_follow_ups) == ("cleared", 14, 0)


@pytest.mark.parametrize("bad", [follow_up(ARRIVED + timedelta(days=3), "37.3"),
                                 follow_up(ARRIVED + timedelta(days=3), symptoms=("cough",))])
def test_one_abnormal_follow_up_keeps_them_in_observation(bad):
    result = decide(ARRIVED + timedelta(days=30), [bad])
    assert (result.state, result.reason, result.abnormal_follow_ups) == ("in_observation", "abnormal_follow_up", 1)


@pytest.mark.parametrize("order", ["pending", "active"])
def test_an_open_order_isolates(order):
    result = decide(ARRIVED + timedelta(days=30), order=order)
    assert (result.state, result.reason) == ("isolated", f"isolation_{order}")


def test_a_release_restarts_observation_and_forgets_the_follow_ups_before_it():
    released_on = ARRIVED + timedelta(days=10)
    record = [follow_up(ARRIVED + timedelta(days=3), "38.0"),
              Observation("isolation_start", _at(ARRIVED + timedelta(days=3), 12)),
              Observation("isolation_end", _at(released_on))]
    during = decide(released_on + timedelta(days=5), record)
    assert (during.state, during.reason) == ("in_observation", "observation_period")
    assert during.observation_ends_on == released_on + timedelta(days=13)
    assert decide(released_on + timedelta(days=14), record).reason == "no_follow_up"  # none since the release
    checked = [*record, follow_up(released_on + timedelta(days=2))]
    assert decide(released_on + timedelta(days=14), checked).state == "cleared"


def test_a_red_record_blocks_clearance_and_a_high_risk_origin_is_observed():
    fever = Observation("declaration", _at(ARRIVED + timedelta(days=20)), Decimal("38.1"))
    assert decide(ARRIVED + timedelta(days=21), [fever]).reason == "health_red"
    from_hubei = decide_clearance(ARRIVED, [arrival(places=("湖北省武汉市",))], None, RULES,
                                  _at(ARRIVED + timedelta(days=5)))
    assert (from_hubei.state, from_hubei.reason) == ("in_observation", "health_yellow")
    later = decide_clearance(ARRIVED, [arrival(places=("湖北省武汉市",)), follow_up(ARRIVED + timedelta(days=1))],
                             None, RULES, _at(ARRIVED + timedelta(days=14)))
    assert later.state == "cleared"


def test_a_follow_up_earlier_on_the_day_of_release_is_answered_by_the_isolation():
    day = ARRIVED + timedelta(days=2)
    record = [Observation("follow_up", _at(day, 8), Decimal("38.0")),
              Observation("isolation_start", _at(day, 9)), Observation("isolation_end", _at(day, 17))]
    result = decide(day, record)
    assert (result.reason, result.follow_ups, result.observation_ends_on) == ("observation_period", 0,
                                                                              day + timedelta(days=13))
    later = decide(day + timedelta(days=1), [*record, follow_up(day + timedelta(days=1), "37.5")])
    assert (later.reason, later.abnormal_follow_ups) == ("abnormal_follow_up", 1)


def test_nobody_is_cleared_without_a_single_follow_up():
    unchecked = decide(ARRIVED + timedelta(days=30), [arrival()])
    assert (unchecked.state, unchecked.reason, unchecked.follow_ups) == ("in_observation", "no_follow_up", 0)
    assert "随访" in unchecked.message
    assert decide(ARRIVED + timedelta(days=30), [arrival(), follow_up(ARRIVED)]).state == "cleared"
