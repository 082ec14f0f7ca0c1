"""Vehicle planning (编班编组, 一车一方案): seat approved applicants in as few vehicles as possible.

Pure Python over plain values, no Flask or database, so it can be tested and benchmarked alone.

Passengers who share a direction, origin and destination form a group; within a group the plan
is earliest-deadline-first: on the earliest `latest` date still waiting, depart (as late as
possible, so more people can share) with as many vehicles as those passengers need, and fill the
free seats with the waiting passengers whose deadlines come next. Without per-day vehicle limits
this uses the fewest vehicles possible: any plan can be turned into this one by exchanges that
never add a vehicle (see the brute-force comparison in the tests).

When a day runs out of vehicles, the passengers who could not leave are tried again afterwards
on days of their window that still have vehicles, and otherwise left unplaced
("no_vehicle"). Departing late then leaves early vehicles idle, so a second plan that also sends
each day's remaining vehicles full is made, and the one seating more people is kept.
"""
import heapq
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from math import floor

from app.services.transport.crew import choose_crew

DIRECTIONS = ("outbound", "inbound")


@dataclass(frozen=True, slots=True)
class Candidate:
    """An approved, unassigned application waiting for a seat."""

    application_id: int
    worker_id: int
    direction: str  # "outbound" | "inbound"
    origin: str  # where the trip starts (e.g. "永宁县" or "甘肃省定西市")
    destination: str  # destination city
    earliest: date  # earliest departure date (inclusive)
    latest: date  # latest departure date (inclusive)
    employer_key: str | None = None  # same value = same employer; kept together where possible
    volunteer: bool = False  # volunteered to be captain (车长)
    birth_date: date | None = None


@dataclass(frozen=True, slots=True)
class VehicleType:
    """A kind of vehicle and how many of it are available on each day."""

    name: str  # e.g. "大客车"
    seats: int
    count: int  # vehicles available PER DAY


@dataclass
class ProposedTrip:
    """One vehicle on one day (一车一方案), with its passengers in seat order."""

    direction: str
    origin: str
    destination: str
    departure_date: date
    vehicle_type: str
    seats: int
    capacity: int  # usable seats = floor(seats * load_factor), at least 1
    passengers: list[int]  # application_ids; seat 1 = passengers[0]
    captain: int | None  # application_id of 车长
    vice_captain: int | None  # application_id of 副车长, another person, when >= 2 passengers
    convoy_key: tuple  # (direction, origin, destination, departure_date)


@dataclass
class Convoy:
    """The vehicles (班组) leaving together: same direction, origin, destination and day."""

    key: tuple  # (direction, origin, destination, departure_date)
    trips: list[int]  # indexes into PlanResult.trips
    leader: int | None  # application_id of 班组长: the captain of its first trip


@dataclass
class PlanResult:
    """The proposed trips, their convoys, and who could not be seated and why."""

    trips: list[ProposedTrip]
    convoys: list[Convoy]
    unplaced: list[tuple[int, str]]  # (application_id, reason code), e.g. "no_vehicle"


def usable_capacity(seats, load_factor):
    """Seats that may be sold: floor(seats × load_factor), at least 1 (2020: buses ran half full)."""
    _check_load_factor(load_factor)
    # Fraction(str(x)) reads 0.29 as 29/100, so 100 seats give 29, not 28.999… floored to 28.
    return max(1, floor(seats * Fraction(str(load_factor))))


def lower_bound(candidates, capacity):
    """Sum over (direction, origin, destination) groups of ceil(passengers / capacity)."""
    if capacity < 1:
        raise ValueError("capacity must be positive")
    sizes = defaultdict(int)
    for candidate in candidates:
        sizes[_group_key(candidate)] += 1
    return sum(-(-size // capacity) for size in sizes.values())


def plan_vehicles(candidates, vehicle_types, load_factor=0.5):
    """Propose trips and convoys for the candidates with as few vehicles as possible (编班编组).

    Args:
        candidates: Candidate objects; application_ids must be unique.
        vehicle_types: VehicleType objects; names unique, seats and count positive. The count
            limits the vehicles of that type used on each day, across all groups.
        load_factor: share of the seats that may be used, in (0, 1].
    Returns a PlanResult in which every candidate is either in exactly one trip or in `unplaced`
    ("no_vehicle": no vehicle left on any day of the window; "empty_window": earliest > latest).
    Raises ValueError for duplicate application_ids, an unknown direction, a bad vehicle type or
    a load factor outside (0, 1].
    """
    _check_load_factor(load_factor)
    candidates, vehicle_types = list(candidates), _checked_types(vehicle_types)
    _check_candidates(candidates)
    result = _plan(candidates, vehicle_types, load_factor, eager=False)
    if any(reason == "no_vehicle" for _, reason in result.unplaced):
        # Departing late leaves the early days' vehicles idle when vehicles are short: also try
        # sending full vehicles as early as possible, and keep whichever plan seats more people.
        eager = _plan(candidates, vehicle_types, load_factor, eager=True)
        if len(eager.unplaced) < len(result.unplaced):
            result = eager
    return result


def _plan(candidates, vehicle_types, load_factor, eager):
    """One complete plan; `eager` also sends each day's remaining vehicles full."""
    fleet = _Fleet(vehicle_types, load_factor)
    groups, unplaced = _group(candidates)
    failed = _plan_by_deadline(groups, fleet, eager)
    unplaced += _retry_on_free_days(failed, groups, fleet)
    trips, convoys = _build_trips(groups, fleet)
    return PlanResult(trips, convoys, unplaced)


def _check_load_factor(load_factor):
    if isinstance(load_factor, bool) or not 0 < load_factor <= 1:
        raise ValueError(f"load_factor must be in (0, 1], got {load_factor!r}")


def _checked_types(vehicle_types):
    vehicle_types = list(vehicle_types)
    for vehicle_type in vehicle_types:
        if vehicle_type.seats < 1 or vehicle_type.count < 1:
            raise ValueError(f"vehicle type {vehicle_type.name!r} needs positive seats and count")
    if len({vehicle_type.name for vehicle_type in vehicle_types}) != len(vehicle_types):
        raise ValueError("vehicle type names must be unique")
    return vehicle_types


def _check_candidates(candidates):
    if len({candidate.application_id for candidate in candidates}) != len(candidates):
        raise ValueError("duplicate application_id among candidates")
    for candidate in candidates:
        if candidate.direction not in DIRECTIONS:
            raise ValueError(f"unknown direction {candidate.direction!r}")


def _group_key(candidate):
    return candidate.direction, candidate.origin, candidate.destination


def _employer_order(candidate):
    """Sort key putting colleagues next to each other, people without an employer last."""
    key = candidate.employer_key
    return (1, "") if key is None else (0, key)


class _Fleet:
    """The vehicle types (largest capacity first) and what is left of them on each day."""

    def __init__(self, vehicle_types, load_factor):
        capacities = {v.name: usable_capacity(v.seats, load_factor) for v in vehicle_types}
        self.types = sorted(vehicle_types, key=lambda v: (-capacities[v.name], v.seats, v.name))
        self.capacity = [capacities[v.name] for v in self.types]
        self.left = {}  # day -> vehicles left per type
        self.exhausted = set()  # days with no vehicle of any type left

    def take(self, day, need):
        """Take a vehicle for `need` passengers on `day`: the largest one when the load fills it,
        else the smallest that holds everyone, else the largest left. Returns a type index or None."""
        chosen = self.largest_left(day)
        if chosen is None:
            return None
        left = self.left[day]
        if need < self.capacity[chosen]:
            chosen = next(i for i in range(len(left) - 1, -1, -1) if left[i] and self.capacity[i] >= need)
        left[chosen] -= 1
        if not any(left):
            self.exhausted.add(day)
        return chosen

    def largest_left(self, day):
        """The index of the largest vehicle type left on `day`, or None."""
        if day in self.exhausted or not self.types:
            return None
        left = self.left.setdefault(day, [v.count for v in self.types])
        return next(index for index, count in enumerate(left) if count)

    def latest_free_day(self, earliest, latest):
        """The latest day in [earliest, latest] with a vehicle left, or None."""
        day = latest
        while day in self.exhausted and day >= earliest:
            day -= timedelta(days=1)
        return day if day >= earliest and self.types else None


class _Group:
    """The passengers of one (direction, origin, destination), released by earliest date."""

    def __init__(self, key, members):
        self.key = key
        self.members = sorted(members, key=lambda c: (c.earliest, c.latest, c.application_id))
        self.released = 0  # members[:released] have reached their earliest date
        self.buckets = {}  # latest -> released, unseated passengers with that deadline
        self.deadlines = []  # heap of the keys of `buckets`
        self.available = 0
        self.departures = {}  # day -> _Departure
        self.days = []  # the keys of `departures`, ascending

    def release(self, day):
        """Make the passengers whose window has opened by `day` available."""
        members, buckets = self.members, self.buckets
        while self.released < len(members) and members[self.released].earliest <= day:
            candidate = members[self.released]
            self.released += 1
            bucket = buckets.get(candidate.latest)
            if bucket is None:
                bucket = buckets[candidate.latest] = []
                heapq.heappush(self.deadlines, candidate.latest)
            bucket.append(candidate)
            self.available += 1

    def take(self, count):
        """Remove and return `count` available passengers, earliest deadlines first.

        Among equal deadlines, colleagues of passengers already taken come first, then whole
        employers in turn, so the cut splits at most one employer.
        """
        taken = []
        while count > 0 and self.deadlines:
            latest = self.deadlines[0]
            bucket = self.buckets[latest]
            if len(bucket) <= count:
                heapq.heappop(self.deadlines)
                del self.buckets[latest]
                taken += bucket
                count -= len(bucket)
                continue
            present = {c.employer_key for c in taken} - {None}
            bucket.sort(key=lambda c: (c.employer_key not in present, _employer_order(c), c.application_id))
            taken += bucket[:count]
            self.buckets[latest] = bucket[count:]
            count = 0
        self.available -= len(taken)
        return taken

    def expire(self, day):
        """Remove and return the passengers whose last day, `day`, has passed without a seat."""
        bucket = self.buckets.pop(day, [])
        if self.deadlines and self.deadlines[0] == day:
            heapq.heappop(self.deadlines)
        self.available -= len(bucket)
        return bucket

    def depart(self, day, vehicles, riders):
        """Add vehicles ((type index, load), …) and their riders to the group's departure on `day`."""
        departure = self.departures.get(day)
        if departure is None:
            departure = self.departures[day] = _Departure()
            self.days.insert(bisect_left(self.days, day), day)
        departure.vehicles += [list(vehicle) for vehicle in vehicles]
        departure.passengers += riders


class _Departure:
    """The vehicles ([type index, load]) of one group on one day and everyone riding them."""

    def __init__(self):
        self.vehicles = []
        self.passengers = []


def _group(candidates):
    """Split candidates into groups, and set those with an empty window aside."""
    members, unplaced = defaultdict(list), []
    for candidate in candidates:
        if candidate.earliest > candidate.latest:
            unplaced.append((candidate.application_id, "empty_window"))
        else:
            members[_group_key(candidate)].append(candidate)
    return [_Group(key, members[key]) for key in sorted(members)], unplaced


def _plan_by_deadline(groups, fleet, eager):
    """Day by day, send each group's passengers due that day plus the next due to fill the seats.

    With `eager`, the vehicles left on a day then leave full with whoever is waiting.
    Returns the passengers due on a day that ran out of vehicles.
    """
    due_on, open_on = defaultdict(set), defaultdict(set)
    for index, group in enumerate(groups):
        for candidate in group.members:
            due_on[candidate.latest].add(index)
            open_on[candidate.earliest].add(index)
    failed, open_groups = [], set()
    for day in sorted(due_on.keys() | open_on.keys() if eager else due_on):
        indexes = sorted(due_on.get(day, ()))
        for index in indexes + sorted(open_on.get(day, ()) if eager else ()):
            groups[index].release(day)
        due = {index: len(groups[index].buckets.get(day, ())) for index in indexes}
        spare = {index: groups[index].available - due[index] for index in indexes}
        vehicles = _share_vehicles(day, due, spare, fleet)
        for index in indexes:
            group = groups[index]
            if index in vehicles:
                group.depart(day, vehicles[index], group.take(sum(load for _, load in vehicles[index])))
            failed += group.expire(day)
        if eager:
            open_groups |= open_on.get(day, set())
            _send_full_vehicles(day, groups, open_groups, fleet)
    return failed


def _send_full_vehicles(day, groups, open_groups, fleet):
    """Send the day's remaining vehicles full, each to the group with most passengers waiting."""
    open_groups.difference_update([index for index in open_groups if not groups[index].available])
    queue = [(-groups[index].available, index) for index in open_groups]
    heapq.heapify(queue)
    while queue:
        largest = fleet.largest_left(day)
        if largest is None or -queue[0][0] < fleet.capacity[largest]:
            return
        index, load = heapq.heappop(queue)[1], fleet.capacity[largest]
        fleet.take(day, load)  # a full load takes the largest type left
        groups[index].depart(day, [(largest, load)], groups[index].take(load))
        if groups[index].available:
            heapq.heappush(queue, (-groups[index].available, index))


def _share_vehicles(day, due, spare, fleet):
    """Give the day's vehicles to the groups, the group with most passengers due first.

    Returns {group index: [(type index, load), …]}; passengers due stay unseated when the day runs out.
    """
    queue = [(-count, index) for index, count in due.items() if count]
    heapq.heapify(queue)
    vehicles = defaultdict(list)
    while queue:
        count, index = heapq.heappop(queue)
        count = -count
        type_index = fleet.take(day, count + spare[index])
        if type_index is None:
            break
        load = min(fleet.capacity[type_index], count + spare[index])
        vehicles[index].append((type_index, load))
        spare[index] -= max(0, load - count)
        if count > load:
            heapq.heappush(queue, (load - count, index))
    return vehicles


def _retry_on_free_days(failed, groups, fleet):
    """Seat passengers whose deadline day ran out of vehicles on the latest free day of their window.

    No trip has a free seat for them: a trip leaves with free seats only when it took everyone
    of its group available that day. Returns the passengers still unseated as (application_id,
    "no_vehicle"): for each of them every day of the window has no vehicle left.
    """
    group_of = {group.key: group for group in groups}
    failed = sorted(failed, key=lambda c: (c.latest, c.earliest, c.application_id))
    waiting = defaultdict(list)
    for candidate in failed:
        waiting[_group_key(candidate)].append(candidate)
    done, unplaced = set(), []
    for candidate in failed:
        if candidate.application_id in done:
            continue
        done.add(candidate.application_id)
        group = group_of[_group_key(candidate)]
        day = fleet.latest_free_day(candidate.earliest, candidate.latest)
        if day is None:
            unplaced.append((candidate.application_id, "no_vehicle"))
            continue
        riders = [candidate] + sorted(
            (c for c in waiting[group.key] if c.application_id not in done and c.earliest <= day <= c.latest),
            key=lambda c: (c.latest, c.employer_key != candidate.employer_key, c.application_id))
        type_index = fleet.take(day, len(riders))
        riders = riders[:fleet.capacity[type_index]]
        done.update(c.application_id for c in riders)
        group.depart(day, [(type_index, len(riders))], riders)
    unplaced.sort(key=lambda item: item[0])
    return unplaced


def _build_trips(groups, fleet):
    """Turn the departures into trips and convoys: colleagues side by side, crews chosen."""
    trips, convoys = [], []
    for day, _, group in sorted((day, group.key, group) for group in groups for day in group.days):
        departure = group.departures[day]
        key = (*group.key, day)
        passengers = sorted(departure.passengers, key=lambda c: (_employer_order(c), c.application_id))
        vehicles = sorted(departure.vehicles, key=lambda v: (v[0], -v[1]))
        convoy = Convoy(key, [], None)
        start = 0
        for type_index, load in vehicles:
            riders = passengers[start:start + load]
            start += load
            vehicle_type = fleet.types[type_index]
            captain, vice = choose_crew(riders, day)
            convoy.trips.append(len(trips))
            trips.append(ProposedTrip(*key[:3], day, vehicle_type.name, vehicle_type.seats,
                                      fleet.capacity[type_index], [c.application_id for c in riders],
                                      captain, vice, key))
        convoy.leader = trips[convoy.trips[0]].captain
        convoys.append(convoy)
    return trips, convoys
