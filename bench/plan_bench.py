"""Benchmark of plan_vehicles (编班编组) on synthetic candidates.

Run from the repository root:  .venv/bin/python bench/plan_bench.py [--n 100000] [--seed 1]
Targets: N = 100,000 planned in at most 10 s with vehicles at most 1.02 × the lower bound.
"""
import argparse
import heapq
import random
import resource
import sys
import time
import tracemalloc
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.services.transport.planning import Candidate, VehicleType, lower_bound, plan_vehicles, usable_capacity  # noqa: E402

TIME_TARGET_S = 10.0
RATIO_TARGET = 1.02
YINCHUAN = ["兴庆区", "西夏区", "金凤区", "永宁县", "贺兰县", "灵武市"]
INBOUND_ORIGINS = ["甘肃省定西市", "甘肃省天水市", "陕西省榆林市", "内蒙古自治区巴彦淖尔市"]
CITIES = [
    "北京市", "上海市", "广州市", "深圳市", "杭州市", "宁波市", "苏州市", "南京市", "无锡市", "天津市",
    "西安市", "兰州市", "乌鲁木齐市", "成都市", "重庆市", "武汉市", "郑州市", "青岛市", "济南市", "厦门市",
    "福州市", "东莞市", "佛山市", "合肥市", "长沙市", "呼和浩特市", "包头市", "太原市", "石家庄市", "昆明市",
]
START = date(2020, 2, 17)
SPAN_DAYS = 14


def make_candidates(n, seed, skew=0.0):
    """N synthetic candidates: 80% outbound from the six Yinchuan districts, 20% inbound to them.

    Destinations are weighted 1 / rank^skew: 0 spreads workers evenly over the 30 cities; 0.6 sends
    most to a few big ones and leaves small groups whose vehicles cannot all be filled.
    """
    rng = random.Random(seed)
    weights = [1 / (rank + 1) ** skew for rank in range(len(CITIES))]
    employers = [f"employer-{index}" for index in range(200)]
    candidates = []
    for application_id in range(1, n + 1):
        if rng.random() < 0.8:
            direction, origin = "outbound", rng.choice(YINCHUAN)
            destination = rng.choices(CITIES, weights)[0]
        else:
            direction, origin, destination = "inbound", rng.choice(INBOUND_ORIGINS), rng.choice(YINCHUAN)
        length = rng.randint(1, 5)
        earliest = START + timedelta(days=rng.randint(0, SPAN_DAYS - length))
        candidates.append(Candidate(
            application_id=application_id,
            worker_id=application_id,
            direction=direction,
            origin=origin,
            destination=destination,
            earliest=earliest,
            latest=earliest + timedelta(days=length - 1),
            employer_key=rng.choice(employers) if rng.random() < 0.9 else None,
            volunteer=rng.random() < 0.05,
            birth_date=date(1960, 1, 1) + timedelta(days=rng.randint(0, 42 * 365)),
        ))
    return candidates


def window_bound(candidates, capacity):
    """A lower bound that respects the windows: split the days of each group into intervals; the
    passengers whose whole window lies in one interval need ceil(count / capacity) vehicles there,
    and vehicles of disjoint intervals are different. Best split by dynamic programming."""
    windows = {}
    for c in candidates:
        windows.setdefault((c.direction, c.origin, c.destination), []).append((c.earliest, c.latest))
    total = 0
    for spans in windows.values():
        first = min(e for e, _ in spans)
        days = (max(latest for _, latest in spans) - first).days + 1
        # inside[a][b]: windows within days a..b, from counts by (start, end).
        count = [[0] * days for _ in range(days)]
        for earliest, latest in spans:
            count[(earliest - first).days][(latest - first).days] += 1
        best = [0] * (days + 1)  # best[b]: best bound using days before b
        for end in range(days):
            best[end + 1] = best[end]
            inside = 0
            for start in range(end, -1, -1):
                inside += sum(count[start][start:end + 1])
                best[end + 1] = max(best[end + 1], best[start] + -(-inside // capacity))
        total += best[days]
    return total


def seat_bound(candidates, seats_per_day):
    """Most people any plan can seat with `seats_per_day` seats a day, ignoring groups: each day
    seat the waiting people with the earliest deadlines (optimal for unit jobs and day capacities)."""
    by_start = {}
    for c in candidates:
        by_start.setdefault(c.earliest, []).append(c.latest)
    day, last, waiting, seated = min(by_start), max(c.latest for c in candidates), [], 0
    while day <= last:
        for latest in by_start.get(day, ()):
            heapq.heappush(waiting, latest)
        while waiting and waiting[0] < day:
            heapq.heappop(waiting)
        for _ in range(min(seats_per_day, len(waiting))):
            heapq.heappop(waiting)
            seated += 1
        day += timedelta(days=1)
    return seated


def check(result, candidates):
    """Cheap sanity checks, so the figures are not those of a wrong plan. Returns a list of problems."""
    by_id = {c.application_id: c for c in candidates}
    seen = Counter(a for trip in result.trips for a in trip.passengers)
    seen.update(a for a, _ in result.unplaced)
    problems = [] if seen == Counter(by_id.keys()) else ["someone lost or seated twice"]
    for trip in result.trips:
        riders = [by_id[a] for a in trip.passengers]
        if len(riders) > trip.capacity:
            problems.append(f"over capacity: {trip.convoy_key}")
        if any((c.direction, c.origin, c.destination) != trip.convoy_key[:3]
               or not c.earliest <= trip.departure_date <= c.latest for c in riders):
            problems.append(f"wrong group or outside window: {trip.convoy_key}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seats", type=int, default=45)
    parser.add_argument("--load-factor", type=float, default=0.5)
    parser.add_argument("--count", type=int, help="vehicles per day (default: enough never to run out)")
    parser.add_argument("--skew", type=float, default=0.0, help="destination popularity: weight 1 / rank^skew")
    args = parser.parse_args()

    candidates = make_candidates(args.n, args.seed, args.skew)
    capacity = usable_capacity(args.seats, args.load_factor)
    # One vehicle type; by default enough of it every day that the per-day limit never binds.
    vehicle_types = [VehicleType("大客车", args.seats, args.count or max(1, args.n))]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    started = time.perf_counter()
    result = plan_vehicles(candidates, vehicle_types, load_factor=args.load_factor)
    elapsed = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    # A second run under tracemalloc for the planner's own peak allocation (tracing slows it down).
    tracemalloc.start()
    plan_vehicles(candidates, vehicle_types, load_factor=args.load_factor)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    vehicles = len(result.trips)
    # Bounds over the people seated, so that a short supply of vehicles does not flatter the ratio.
    unplaced = {application_id for application_id, _ in result.unplaced}
    seated = [c for c in candidates if c.application_id not in unplaced]
    bound = lower_bound(seated, capacity)
    tight = window_bound(seated, capacity)
    ratio = vehicles / bound if bound else 1.0
    groups = len({(c.direction, c.origin, c.destination) for c in candidates})
    problems = check(result, candidates)
    print(f"N                      {args.n}")
    print(f"seed                   {args.seed}")
    print(f"destination skew       {args.skew}")
    print(f"vehicle                {args.seats} seats × load factor {args.load_factor} = capacity {capacity}, "
          f"{vehicle_types[0].count} a day")
    print(f"groups                 {groups}")
    print(f"time to plan           {elapsed:.3f} s")
    print(f"vehicles used          {vehicles}")
    print(f"convoys                {len(result.convoys)}")
    print(f"lower bound            {bound} (over those seated)")
    print(f"vehicles / bound       {ratio:.4f}")
    print(f"window-aware bound     {tight} (vehicles / it {vehicles / tight if tight else 1:.4f})")
    print(f"unplaced               {len(result.unplaced)}")
    if args.count and candidates:
        print(f"seatable at most       {seat_bound(candidates, args.count * capacity)} (ignoring groups)")
    print(f"seat occupancy         {sum(len(t.passengers) for t in result.trips) / (vehicles * capacity or 1):.4f}")
    print(f"peak RSS               {rss_after / 1024:.1f} MiB (before planning {rss_before / 1024:.1f} MiB)")
    print(f"planner peak (traced)  {traced_peak / 2**20:.1f} MiB")
    print(f"checks                 {'ok' if not problems else '; '.join(problems[:5])}")
    print(f"time ≤ {TIME_TARGET_S:g} s           {'met' if elapsed <= TIME_TARGET_S else 'NOT met'}")
    print(f"ratio ≤ {RATIO_TARGET}          {'met' if ratio <= RATIO_TARGET else 'NOT met'}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
