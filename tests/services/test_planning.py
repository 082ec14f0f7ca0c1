"""Vehicle planning (plan_vehicles), as plain unit tests: hand-made cases, then properties."""
import math
import random
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.transport.planning import (
    Candidate,
    VehicleType,
    choose_crew,
    lower_bound,
    plan_vehicles,
    usable_capacity,
)

D0 = date(2020, 2, 20)
BUS = VehicleType("大客车", 45, 100)  # capacity 22 at the default load factor


def cand(application_id, day=0, days=1, destination="杭州市", origin="永宁县", direction="outbound",
         employer=None, volunteer=False, age=None):
    """A candidate whose window starts `day` days after D0 and lasts `days` days."""
    earliest = D0 + timedelta(days=day)
    birth = None if age is None else D0.replace(year=D0.year - age) - timedelta(days=1)
    return Candidate(application_id, 1000 + application_id, direction, origin, destination, earliest,
                     earliest + timedelta(days=days - 1), employer, volunteer, birth)


def loads(result):
    return sorted(len(trip.passengers) for trip in result.trips)


# --- hand-made cases ---------------------------------------------------------------------------

@pytest.mark.parametrize("seats, load_factor, expected", [
    (45, 0.5, 22), (45, 1, 45), (1, 0.5, 1), (100, 0.29, 29), (45, Decimal("0.50"), 22), (7, 0.1, 1),
])
def test_usable_capacity(seats, load_factor, expected):
    assert usable_capacity(seats, load_factor) == expected


def test_twenty_three_passengers_need_two_buses():
    result = plan_vehicles([cand(i) for i in range(1, 24)], [BUS])
    assert loads(result) == [1, 22]
    assert all(trip.capacity == 22 and trip.seats == 45 for trip in result.trips)
    assert result.unplaced == []
    [convoy] = result.convoys
    assert convoy.key == ("outbound", "永宁县", "杭州市", D0)
    assert convoy.trips == [0, 1]
    assert convoy.leader == result.trips[0].captain


def test_lower_bound_counts_each_group_separately():
    people = [cand(i) for i in range(1, 24)] + [cand(i, destination="苏州市") for i in range(24, 26)]
    assert lower_bound(people, 22) == 3
    assert lower_bound([], 22) == 0


def test_different_destinations_never_share():
    result = plan_vehicles([cand(1), cand(2, destination="苏州市"), cand(3, origin="贺兰县")], [BUS])
    assert loads(result) == [1, 1, 1]
    assert len(result.convoys) == 3


def test_directions_never_share():
    result = plan_vehicles([cand(1), cand(2, direction="inbound")], [BUS])
    assert loads(result) == [1, 1]


def test_windows_that_do_not_overlap_never_share():
    result = plan_vehicles([cand(1, day=0, days=2), cand(2, day=3, days=2)], [BUS])
    assert sorted(trip.departure_date for trip in result.trips) == [D0 + timedelta(days=1), D0 + timedelta(days=4)]


def test_departs_as_late_as_possible_so_more_can_share():
    result = plan_vehicles([cand(1, day=0, days=3), cand(2, day=2, days=3)], [BUS])
    [trip] = result.trips
    assert trip.departure_date == D0 + timedelta(days=2)
    assert sorted(trip.passengers) == [1, 2]


def test_colleagues_ride_together():
    # Ids alternate between the two employers, so seating by id would mix them.
    people = [cand(i, employer="甲公司" if i % 2 else "乙公司") for i in range(1, 31)]
    result = plan_vehicles(people, [VehicleType("中巴", 30, 5)])
    employer = {c.application_id: c.employer_key for c in people}
    assert sorted({employer[a] for a in trip.passengers} for trip in result.trips) == [{"乙公司"}, {"甲公司"}]


def test_equal_deadlines_prefer_colleagues_of_those_already_seated():
    # Day 0 needs a vehicle of 4 for three 甲 workers; of the fillers due on day 1 the 甲 colleague
    # takes the last seat even though the 乙 workers have lower ids.
    people = [cand(i, employer="甲") for i in (10, 11, 12)]
    people += [cand(1, days=2, employer="乙"), cand(2, days=2, employer="乙"), cand(13, days=2, employer="甲")]
    result = plan_vehicles(people, [VehicleType("面包车", 8, 5)])
    first, second = sorted(result.trips, key=lambda trip: trip.departure_date)
    assert sorted(first.passengers) == [10, 11, 12, 13]
    assert sorted(second.passengers) == [1, 2]


def test_smallest_vehicle_that_fits_takes_the_last_partial_load():
    types = [VehicleType("小客车", 7, 5), BUS, VehicleType("中巴", 19, 5)]
    result = plan_vehicles([cand(i) for i in range(1, 26)], types)
    assert sorted((trip.vehicle_type, len(trip.passengers)) for trip in result.trips) == [("大客车", 22), ("小客车", 3)]


def test_volunteer_is_captain_then_the_adult_closest_to_37():
    people = [cand(1, age=37), cand(2, age=60, volunteer=True), cand(3, age=30)]
    [trip] = plan_vehicles(people, [BUS]).trips
    assert (trip.captain, trip.vice_captain) == (2, 1)


def test_captain_prefers_25_to_50_then_any_adult_then_anyone():
    day = D0
    assert choose_crew([cand(1, age=20), cand(2, age=55), cand(3, age=45), cand(4, age=30)], day) == (4, 3)
    assert choose_crew([cand(1, age=16), cand(2), cand(3, age=19), cand(4, age=60)], day) == (3, 4)
    assert choose_crew([cand(5, age=16), cand(2)], day) == (2, 5)


def test_age_counts_on_the_departure_day():
    # 17 on D0 and 18 the day after: only then an adult, ahead of someone of unknown age.
    young = Candidate(2, 2, "outbound", "永宁县", "杭州市", D0, D0, birth_date=date(2002, 2, 21))
    assert choose_crew([young, cand(1)], D0) == (1, 2)
    assert choose_crew([young, cand(1)], D0 + timedelta(days=1)) == (2, 1)


def test_one_passenger_has_a_captain_and_no_vice():
    [trip] = plan_vehicles([cand(1)], [BUS]).trips
    assert (trip.captain, trip.vice_captain) == (1, None)


def test_per_day_limit_leaves_the_rest_unplaced():
    result = plan_vehicles([cand(i) for i in range(1, 31)], [VehicleType("大客车", 45, 1)])
    assert loads(result) == [22]
    assert result.unplaced == [(i, "no_vehicle") for i in range(23, 31)]


def test_per_day_limit_sends_the_overflow_on_an_earlier_free_day():
    result = plan_vehicles([cand(i, days=2) for i in range(1, 31)], [VehicleType("大客车", 45, 1)])
    assert sorted(trip.departure_date for trip in result.trips) == [D0, D0 + timedelta(days=1)]
    assert result.unplaced == []


def test_when_vehicles_are_short_full_vehicles_leave_early():
    # One bus a day. Leaving as late as possible would put the flexible 1–22 on day 2's bus and
    # strand 45–66; sending day 0's idle bus full seats everyone.
    people = [cand(i, days=3) for i in range(1, 23)] + [cand(i, day=1) for i in range(23, 45)]
    people += [cand(i, day=2) for i in range(45, 67)]
    result = plan_vehicles(people, [VehicleType("大客车", 45, 1)])
    assert result.unplaced == []
    assert sorted((trip.departure_date - D0).days for trip in result.trips) == [0, 1, 2]


def test_per_day_limit_is_shared_by_all_groups():
    people = [cand(i) for i in range(1, 6)] + [cand(i, destination="苏州市") for i in range(6, 8)]
    result = plan_vehicles(people, [VehicleType("大客车", 45, 1)])
    [trip] = result.trips
    assert trip.destination == "杭州市"  # the group with more passengers due gets the only bus
    assert result.unplaced == [(6, "no_vehicle"), (7, "no_vehicle")]


def test_no_vehicle_types_leaves_everyone_unplaced():
    assert plan_vehicles([cand(1)], []).unplaced == [(1, "no_vehicle")]


def test_empty_input_gives_an_empty_plan():
    result = plan_vehicles([], [BUS])
    assert (result.trips, result.convoys, result.unplaced) == ([], [], [])


def test_empty_window_is_unplaced():
    broken = Candidate(1, 1, "outbound", "永宁县", "杭州市", D0, D0 - timedelta(days=1))
    assert plan_vehicles([broken], [BUS]).unplaced == [(1, "empty_window")]


@pytest.mark.parametrize("people, types, load_factor", [
    ([cand(1), cand(1)], [BUS], 0.5),
    ([cand(1)], [BUS], 0),
    ([cand(1)], [BUS], 1.5),
    ([cand(1)], [BUS], -0.5),
    ([cand(1)], [BUS], float("nan")),
    ([cand(1)], [], 2),
    ([cand(1)], [VehicleType("大客车", 0, 1)], 0.5),
    ([cand(1)], [VehicleType("大客车", 45, 0)], 0.5),
    ([cand(1)], [BUS, VehicleType("大客车", 30, 1)], 0.5),
    ([cand(1, direction="sideways")], [BUS], 0.5),
])
def test_bad_input_is_a_value_error(people, types, load_factor):
    with pytest.raises(ValueError):
        plan_vehicles(people, types, load_factor=load_factor)


def test_bad_capacity_is_a_value_error():
    with pytest.raises(ValueError):
        usable_capacity(45, 0)
    with pytest.raises(ValueError):
        lower_bound([cand(1)], 0)


# --- properties over random small inputs -------------------------------------------------------

def candidates(max_size=25, groups=True):
    """Small random candidates over a week; few places, so vehicles are shared and contended."""
    places = st.sampled_from(["outbound", "inbound"]), st.sampled_from(["永宁县", "甘肃省定西市"])
    person = st.tuples(
        *(places if groups else (st.just("outbound"), st.just("永宁县"))),
        st.sampled_from(["杭州市", "西安市"]), st.integers(0, 6), st.integers(1, 4),
        st.sampled_from([None, "甲", "乙", "丙"]), st.booleans(), st.one_of(st.none(), st.integers(10, 70)),
    )
    return st.lists(person, max_size=max_size).map(lambda rows: [
        cand(i, day=day, days=days, direction=direction, origin=origin, destination=destination,
             employer=employer, volunteer=volunteer, age=age)
        for i, (direction, origin, destination, day, days, employer, volunteer, age) in enumerate(rows, 1)
    ])


vehicle_types = st.lists(
    st.builds(VehicleType, st.sampled_from(["大客车", "中巴", "小客车"]), st.integers(1, 12), st.integers(1, 3)),
    min_size=1, max_size=3, unique_by=lambda v: v.name,
)
load_factors = st.sampled_from([0.5, 1.0, 0.3, 0.75])


def group_of(candidate):
    return candidate.direction, candidate.origin, candidate.destination


def check_plan(people, types, load_factor, result):
    """Assert every rule of plan_vehicles on one result."""
    by_id = {c.application_id: c for c in people}
    placed = [a for trip in result.trips for a in trip.passengers]
    assert Counter(placed + [a for a, _ in result.unplaced]) == Counter(by_id.keys())
    kinds = {v.name: v for v in types}
    used = Counter()
    for trip in result.trips:
        riders = [by_id[a] for a in trip.passengers]
        assert riders, "no empty vehicles"
        kind = kinds[trip.vehicle_type]
        assert (trip.seats, trip.capacity) == (kind.seats, usable_capacity(kind.seats, load_factor))
        assert len(riders) <= trip.capacity
        assert trip.convoy_key == (trip.direction, trip.origin, trip.destination, trip.departure_date)
        for rider in riders:
            assert group_of(rider) == trip.convoy_key[:3]
            assert rider.earliest <= trip.departure_date <= rider.latest
        assert trip.captain in trip.passengers
        if len(riders) == 1:
            assert trip.vice_captain is None
        else:
            assert trip.vice_captain in trip.passengers and trip.vice_captain != trip.captain
        if any(r.volunteer for r in riders):
            assert by_id[trip.captain].volunteer
        used[trip.departure_date, trip.vehicle_type] += 1
    for (day, name), count in used.items():
        assert count <= kinds[name].count
    check_convoys(result, by_id)
    check_unplaced(result, by_id, types, used)
    assert len(result.trips) >= lower_bound([by_id[a] for a in placed], max(
        usable_capacity(v.seats, load_factor) for v in types))


def check_convoys(result, by_id):
    """Convoys partition the trips by key; colleagues sit next to each other across the convoy."""
    assert sorted(i for convoy in result.convoys for i in convoy.trips) == list(range(len(result.trips)))
    assert len({convoy.key for convoy in result.convoys}) == len(result.convoys)
    for convoy in result.convoys:
        assert all(result.trips[i].convoy_key == convoy.key for i in convoy.trips)
        assert convoy.leader == result.trips[convoy.trips[0]].captain
        keys = [by_id[a].employer_key for i in convoy.trips for a in result.trips[i].passengers]
        assert keys == sorted(keys, key=lambda k: (k is None, k or ""))


def check_unplaced(result, by_id, types, used):
    """Nobody is left unplaced while a day of the window has a vehicle or a trip has a seat."""
    free_seats = defaultdict(int)
    for trip in result.trips:
        free_seats[trip.convoy_key] += trip.capacity - len(trip.passengers)
    for application_id, reason in result.unplaced:
        assert reason == "no_vehicle"
        person, day = by_id[application_id], by_id[application_id].earliest
        while day <= person.latest:
            assert all(used[day, v.name] == v.count for v in types)
            assert free_seats[(*group_of(person), day)] == 0
            day += timedelta(days=1)


@settings(max_examples=200, deadline=None)
@given(candidates(), vehicle_types, load_factors)
def test_every_rule_holds(people, types, load_factor):
    check_plan(people, types, load_factor, plan_vehicles(people, types, load_factor=load_factor))


@settings(max_examples=100, deadline=None)
@given(candidates(), vehicle_types, load_factors, st.randoms(use_true_random=False))
def test_same_input_in_any_order_gives_the_same_plan(people, types, load_factor, rng):
    shuffled_people, shuffled_types = people[:], types[:]
    rng.shuffle(shuffled_people)
    rng.shuffle(shuffled_types)
    assert plan_vehicles(people, types, load_factor) == plan_vehicles(shuffled_people, shuffled_types, load_factor)


def fewest_vehicles(people, capacity):
    """The true minimum for one group, by trying every split into vehicles (tiny inputs only)."""
    size = len(people)
    fits = [False] * (1 << size)
    for mask in range(1, 1 << size):
        chosen = [people[i] for i in range(size) if mask >> i & 1]
        fits[mask] = len(chosen) <= capacity and max(c.earliest for c in chosen) <= min(c.latest for c in chosen)
    best = [0] + [math.inf] * ((1 << size) - 1)
    for mask in range(1, 1 << size):
        low = mask & -mask
        sub = mask
        while sub:
            if sub & low and fits[sub]:
                best[mask] = min(best[mask], best[mask ^ sub] + 1)
            sub = (sub - 1) & mask
    return best[-1]


@settings(max_examples=150, deadline=None)
@given(candidates(max_size=8, groups=False), st.integers(1, 4))
def test_earliest_deadline_first_uses_the_fewest_vehicles(people, seats):
    result = plan_vehicles(people, [VehicleType("车", seats, 100)], load_factor=1)
    assert result.unplaced == []
    expected = sum(fewest_vehicles([c for c in people if c.destination == d], seats) for d in {"杭州市", "西安市"})
    assert len(result.trips) == expected


@settings(max_examples=100, deadline=None)
@given(candidates(max_size=40))
def test_enough_vehicles_seat_everyone(people):
    result = plan_vehicles(people, [BUS, VehicleType("小客车", 7, 100)])
    assert result.unplaced == []
    check_plan(people, [BUS, VehicleType("小客车", 7, 100)], 0.5, result)


def test_a_larger_random_plan_keeps_the_rules():
    rng = random.Random(7)
    people = [cand(i, day=rng.randint(0, 10), days=rng.randint(1, 5), destination=rng.choice("ABCDE"),
                   employer=rng.choice([None, *"甲乙丙丁"]), volunteer=rng.random() < 0.1,
                   age=rng.randint(16, 65)) for i in range(1, 3001)]
    types = [VehicleType("大客车", 45, 12), VehicleType("中巴", 19, 6)]
    check_plan(people, types, 0.5, plan_vehicles(people, types))
