"""Benchmark of the dashboard (GET /api/console/v1/stats, 看板) over a city of 100,000 applications on MariaDB.

Run from the repository root:

    .venv/bin/python bench/stats_bench.py [--applications 100000] [--runs 5] [--explain] [--keep]

It drops and rebuilds the MariaDB database `fangang_stats_bench` (never `test`): migrations and reference data
through the flask CLI, then bulk inserts (multi-row INSERTs of 5,000 rows, foreign-key checks off for
the load only) of synthetic but consistent data in proportion to the applications: workers, 300
enterprises with job rows, applications over 21 Beijing days, plans, convoys and trips of ~30
passengers, seats, no-show revocations, boarding/arrival/isolate/deny scans, health events
(declarations, boarding and arrival records, 14 days of follow-ups for returnees), roster entries and
isolation orders. `--keep` reuses a database an earlier run loaded.

Then it times `/stats` through Flask's test client (the whole request: token, query schema, service,
serialisation), signed in as the office (whole city, no filter) and as a county operator (one county,
a 7-day window), once cold and `--runs` times warm; it also prints the service's time alone and, per
SQL statement, its time (and with `--explain`, MariaDB's EXPLAIN). Target: every warm answer ≤ 1 s.
"""
import argparse
import base64
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import scan_bench  # noqa: E402  (the host line every bench prints)

BIN = ROOT / ".venv" / "bin"
DB_NAME = "fangang_stats_bench"
DB_HOST, DB_PORT = "127.0.0.1", 3306
DATABASE_URL = f"mysql+pymysql://root@{DB_HOST}:{DB_PORT}/{DB_NAME}?charset=utf8mb4"
TARGET_S = 1.0
BATCH = 5000
PASSWORD = "bench-password-2026"
COUNTIES = ["640104", "640105", "640106", "640121", "640122", "640181"]
COUNTY_WEIGHTS = [18, 22, 16, 15, 14, 15]
FIRST_DAY = date(2020, 2, 10)  # Beijing days FIRST_DAY .. FIRST_DAY + DAYS - 1
DAYS = 21
CITIES = ["宁波市", "杭州市", "苏州市", "深圳市", "广州市", "上海市", "北京市", "西安市", "兰州市", "成都市"]
WINDOW = (date(2020, 2, 17), date(2020, 2, 23))  # the county operator's 7-day window
APPLICATION_STATUSES = [("travelled", 55), ("assigned", 10), ("approved", 15), ("submitted", 10),
                        ("rejected", 5), ("cancelled", 5)]


def mariadb(database=None):
    import pymysql
    return pymysql.connect(host=DB_HOST, port=DB_PORT, user="root", password="", database=database,
                           charset="utf8mb4", autocommit=True)


def bench_env():
    """The environment of this process and the flask CLI: the bench database, no Redis (in-process fallbacks)."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("WECHAT_APP_ID", "WECHAT_APP_SECRET", "PROXY_COUNT", "FLASK_APP", "REDIS_URL")}
    env.update({"APP_ENV": "development", "DATABASE_URL": DATABASE_URL,
                "DATA_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
                "STAFF_LOGIN_RATE_LIMIT": "100000 per minute"})
    return env


def recreate_database(env):
    with mariadb() as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        cur.execute(f"CREATE DATABASE {DB_NAME} CHARACTER SET utf8mb4")
    for command in (["db", "upgrade"], ["seed"]):
        result = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *command], cwd=ROOT, env=env,
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"flask {' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")


# --- data ----------------------------------------------------------------------------------------


def utc_of(day, rng, hours=(7, 22)):
    """A naive-UTC moment during the Beijing day `day` (Beijing = UTC+8)."""
    local = datetime.combine(day, datetime.min.time()) + timedelta(hours=rng.uniform(*hours))
    return local - timedelta(hours=8)


class Loader:
    """Multi-row INSERTs of BATCH rows through one connection with foreign-key and unique checks off."""

    def __init__(self, connection):
        self.connection = connection
        self.rows = 0

    def insert(self, table, rows):
        rows = list(rows)
        if not rows:
            return
        keys = set().union(*rows)  # one statement for every row: a key some rows lack is NULL in them
        rows = [row if len(row) == len(keys) else {key: row.get(key) for key in keys} for row in rows]
        for start in range(0, len(rows), BATCH):
            self.connection.execute(table.insert(), rows[start:start + BATCH])
        self.rows += len(rows)


def load(app, n, rng):
    """Insert the synthetic city for `n` applications; returns the row counts by table."""
    from sqlalchemy import func, select, text

    from app.extensions import db
    from app.models import (
        Application,
        Convoy,
        Enterprise,
        EnterpriseJob,
        HealthEvent,
        IsolationOrder,
        Park,
        Plan,
        Revocation,
        RosterEntry,
        ScanEvent,
        Seat,
        StaffUser,
        Trip,
        Worker,
    )

    counts = {}
    with app.app_context():
        parks = db.session.execute(select(Park.id, Park.county_code)).all()
        staff_id = db.session.scalar(select(func.min(StaffUser.id)))
        engine = db.engine
    with engine.begin() as connection:
        connection.execute(text("SET foreign_key_checks = 0, unique_checks = 0"))
        put = Loader(connection)
        now = datetime(2020, 3, 2)

        # Enterprises (300 besides the reference data's samples), three job rows each.
        first_enterprise = 100_000
        enterprises = []
        for index in range(300):
            county = rng.choices(COUNTIES, COUNTY_WEIGHTS)[0]
            park = rng.choice([p for p, c in parks if c == county] or [None]) if rng.random() < 0.4 else None
            enterprises.append({"id": first_enterprise + index, "name": f"压测企业{index:03d}有限公司",
                                "county_code": county, "park_id": park, "updated_at": now})
        put.insert(Enterprise.__table__, enterprises)
        put.insert(EnterpriseJob.__table__, ({"enterprise_id": e["id"], "job_type": job, "filled": rng.randint(0, 80),
                                              "short": rng.randint(0, 60), "updated_at": now}
                                             for e in enterprises for job in ("普工", "焊工", "叉车")))
        counts["enterprises"] = len(enterprises)

        # Workers and their applications.
        put.insert(Worker.__table__, ({"id": i, "openid": f"bench-{i}", "name": "压测", "created_at": now,
                                       "updated_at": now} for i in range(1, n + 1)))
        statuses = [status for status, _ in APPLICATION_STATUSES]
        weights = [weight for _, weight in APPLICATION_STATUSES]
        applications = []
        for i in range(1, n + 1):
            inbound = rng.random() < 0.2
            county = rng.choices(COUNTIES, COUNTY_WEIGHTS)[0]
            employer = rng.choice(enterprises)["id"] if inbound or rng.random() < 0.1 else None
            submitted = FIRST_DAY + timedelta(days=rng.randrange(DAYS - 3))
            departure = submitted + timedelta(days=rng.randint(1, 3))
            status = rng.choices(statuses, weights)[0]
            applications.append({
                "id": i, "worker_id": i, "direction": "inbound" if inbound else "outbound", "county_code": county,
                "origin": "甘肃省定西市" if inbound else "银川市", "destination_city": "银川市" if inbound else
                rng.choice(CITIES), "destination_address": "（压测）", "employer_id": employer,
                "earliest_departure": departure, "latest_departure": departure, "status": status,
                "active_worker_id": i if status in ("submitted", "approved", "assigned") else None,
                "created_at": utc_of(submitted, rng), "updated_at": now})
        put.insert(Application.__table__, applications)
        counts["applications"] = len(applications)

        # Plans (one per county), convoys (per county, direction and day), trips of ~30 passengers, seats.
        plans = [{"id": index + 1, "status": "published", "county_code": county, "date_from": FIRST_DAY,
                  "date_to": FIRST_DAY + timedelta(days=DAYS), "load_factor": 0.5, "vehicle_types": [],
                  "created_by": staff_id, "created_at": now, "version": 1} for index, county in enumerate(COUNTIES)]
        put.insert(Plan.__table__, plans)
        plan_of = {plan["county_code"]: plan["id"] for plan in plans}
        groups = {}
        for application in applications:
            if application["status"] in ("travelled", "assigned"):
                key = (application["county_code"], application["direction"], application["earliest_departure"])
                groups.setdefault(key, []).append(application)
        convoys, trips, seats, revocations = [], [], [], []
        scans, health, orders = [], [], []
        today = FIRST_DAY + timedelta(days=DAYS - 4)  # trips departing later are still published
        for (county, direction, day), members in sorted(groups.items()):
            convoy_id = len(convoys) + 1
            convoys.append({"id": convoy_id, "plan_id": plan_of[county], "direction": direction, "origin": "银川市",
                            "destination": "（压测）", "departure_date": day})
            for start in range(0, len(members), 30):
                trip_id = len(trips) + 1
                departed = day <= today
                trips.append({"id": trip_id, "plan_id": plan_of[county], "convoy_id": convoy_id, "county_code": county,
                              "status": ("closed" if day < today else "arrived") if departed else "published",
                              "direction": direction, "origin": "银川市", "destination": "（压测）",
                              "departure_date": day, "departure_time": datetime.min.time().replace(hour=7),
                              "vehicle_type": "大客车", "seats": 60, "capacity": 30, "updated_at": now})
                for seat_no, application in enumerate(members[start:start + 30], 1):
                    seat_id = len(seats) + 1
                    no_show = departed and rng.random() < 0.03
                    seats.append({"id": seat_id, "trip_id": trip_id, "worker_id": application["worker_id"],
                                  "application_id": application["id"], "seat_no": seat_no,
                                  "status": "revoked" if no_show else "assigned",
                                  "live_application_id": None if no_show else application["id"],
                                  "issued_at": now, "revoked_at": now if no_show else None})
                    if no_show:
                        revocations.append({"serial": seat_id, "revoked_at": now, "reason": "no_show"})
                        continue
                    if departed:
                        _scans(rng, scans, health, orders, seat_id, trip_id, application["worker_id"], day)
        put.insert(Convoy.__table__, convoys)
        put.insert(Trip.__table__, trips)
        put.insert(Seat.__table__, seats)
        put.insert(Revocation.__table__, revocations)
        put.insert(ScanEvent.__table__, scans)
        counts.update(trips=len(trips), seats=len(seats), scans=len(scans))

        # Declarations for everyone; returnees (inbound with an employer) on rosters, followed up 14 days.
        health.extend({"worker_id": a["worker_id"], "kind": "declaration", "occurred_at": a["created_at"],
                       "recorded_at": a["created_at"], "temperature": 36.5, "symptoms": [],
                       "actor_kind": "worker"} for a in applications)
        returnees = [a for a in applications if a["employer_id"] and a["status"] == "travelled"]
        rosters = []
        for a in returnees[: len(returnees) // 3]:  # a third came on their own (零散返岗) and are on a roster
            rosters.append({"enterprise_id": a["employer_id"], "worker_id": a["worker_id"], "origin": "甘肃省定西市",
                            "arrival_date": a["earliest_departure"], "transport": "train", "registered_by": staff_id,
                            "created_at": now})
        for a in returnees:
            for offset in range(1, 15):
                day = a["earliest_departure"] + timedelta(days=offset)
                if day >= FIRST_DAY + timedelta(days=DAYS):
                    break
                temperature, symptoms = 36.5, []
                roll = rng.random()
                if roll < 0.004:
                    temperature = 38.1
                elif roll < 0.008:
                    symptoms = ["cough"]
                health.append({"worker_id": a["worker_id"], "kind": "follow_up", "occurred_at": utc_of(day, rng),
                               "recorded_at": now, "temperature": temperature, "symptoms": symptoms,
                               "actor_kind": "staff"})
                if roll < 0.008:
                    orders.append({"worker_id": a["worker_id"], "status": rng.choice(["pending", "active", "released"]),
                                   "reason": "fever" if roll < 0.004 else "symptoms", "opened_at": utc_of(day, rng)})
        put.insert(RosterEntry.__table__, rosters)
        put.insert(HealthEvent.__table__, health)
        put.insert(IsolationOrder.__table__, orders)
        counts.update(roster_entries=len(rosters), health_events=len(health), isolation_orders=len(orders))
    with engine.connect() as connection:
        for table in ("applications", "trips", "seats", "scan_events", "health_events", "isolation_orders",
                      "roster_entries", "enterprises", "enterprise_jobs", "revocations", "workers"):
            connection.execute(text(f"ANALYZE TABLE {table}"))
    return counts


def _scans(rng, scans, health, orders, seat_id, trip_id, worker_id, day):
    """A departed passenger's scans: a refused one now and then, boarding (rarely isolate), arrival."""
    def scan(kind, verdict, reason, moment, **extra):
        scans.append({"client_event_id": str(uuid.UUID(int=rng.getrandbits(128))), "kind": kind, "mode": "online",
                      "scanned_at": moment, "received_at": moment, "device_id": "bench", "actor_kind": "worker",
                      "actor_id": 1, "trip_id": trip_id, "seat_id": seat_id, "worker_id": worker_id,
                      "temperature": 36.5, "symptoms": [], "verdict": verdict, "reason": reason, "conflict": False,
                      "answer": {}, **extra})

    board = utc_of(day, rng, (6, 8))
    if rng.random() < 0.02:
        scan("board", "deny", "wrong_trip", board - timedelta(minutes=5))
    if rng.random() < 0.003:
        scan("board", "isolate", "fever", board)
        orders.append({"worker_id": worker_id, "status": "active", "reason": "fever", "trip_id": trip_id,
                       "opened_at": board})
        return
    scan("board", "allow", "ok", board, boarded_seat_id=seat_id)
    health.append({"worker_id": worker_id, "kind": "boarding", "occurred_at": board, "recorded_at": board,
                   "temperature": 36.5, "symptoms": [], "actor_kind": "captain"})
    if rng.random() < 0.97:
        arrive = board + timedelta(hours=rng.uniform(4, 12))
        scan("arrive", "allow", "ok", arrive, arrived_seat_id=seat_id)
        health.append({"worker_id": worker_id, "kind": "arrival", "occurred_at": arrive, "recorded_at": arrive,
                       "temperature": 36.6, "symptoms": [], "actor_kind": "captain"})


# --- timing --------------------------------------------------------------------------------------


class Statements:
    """Each SQL statement's time while active (SQLAlchemy cursor events)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.active, self.seen = False, []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        context._bench_started = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.active:
            self.seen.append((time.perf_counter() - context._bench_started, statement, parameters))


def timed(call, runs):
    """(cold seconds, [warm seconds])."""
    started = time.perf_counter()
    call()
    cold = time.perf_counter() - started
    warm = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        warm.append(time.perf_counter() - started)
    return cold, warm


def ensure_staff(app):
    """The two accounts the timing signs in as (and the plans' author)."""
    from app.extensions import db
    from app.models import StaffUser
    from app.services.accounts import staff as accounts

    with app.app_context():
        for username, role, scope in (("bench-office", "admin", {}),
                                      ("bench-county", "county_operator", {"county_code": "640105"})):
            if db.session.scalar(db.select(StaffUser.id).where(StaffUser.username == username)) is None:
                accounts.create_staff(username, PASSWORD, role, **scope, by=accounts.CLI)


def measure(app, runs, explain):
    """Time /stats for the office (city) and a county operator (one county, 7 days); returns the rows printed."""
    from app.extensions import db
    from app.models import StaffUser
    from app.services.office import stats

    client = app.test_client()
    cases = [("whole city (office, no filter)", "bench-office", {}),
             (f"one county (640105 西夏区, {WINDOW[0]} .. {WINDOW[1]})", "bench-county",
              {"date_from": WINDOW[0].isoformat(), "date_to": WINDOW[1].isoformat()})]
    results = []
    for label, username, query in cases:
        token = client.post("/api/console/v1/session", json={"username": username, "password": PASSWORD}).json["token"]
        headers = {"Authorization": f"Bearer {token}"}

        def request():
            response = client.get("/api/console/v1/stats", query_string=query, headers=headers)
            assert response.status_code == 200, response.json
            return response.json

        answer = request()
        cold, warm = timed(request, runs)
        with app.app_context():
            member = db.session.scalar(db.select(StaffUser).where(StaffUser.username == username))
            dates = {key: date.fromisoformat(value) for key, value in query.items()}
            _, service = timed(lambda: stats.dashboard(member, None, dates.get("date_from"), dates.get("date_to")), runs)
            watcher = Statements(db.engine)
            watcher.active = True
            stats.dashboard(member, None, dates.get("date_from"), dates.get("date_to"))
            watcher.active = False
            statements = watcher.seen
            plans = []
            if explain:
                with db.engine.connect() as connection:
                    for _, statement, parameters in statements:
                        plans.append(connection.exec_driver_sql("EXPLAIN " + statement, parameters).all())
        results.append({"label": label, "cold": cold, "warm": warm, "service": service, "statements": statements,
                        "plans": plans, "applications": answer["applications"]["total"],
                        "passengers": answer["passengers"]["total"], "anomalies": answer["health"]["anomalies"]})
    return results


def machine():
    """The host (from scan_bench, as every bench prints it) and the MariaDB the figures came from."""
    with mariadb() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@version, @@innodb_buffer_pool_size")
        version, pool = cur.fetchone()
    return f"{scan_bench.machine()}, MariaDB {version}, buffer pool {int(pool) // 2**20} MB"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--explain", action="store_true", help="print MariaDB's EXPLAIN of every statement")
    parser.add_argument("--keep", action="store_true", help="reuse the database an earlier run loaded")
    args = parser.parse_args()

    env = bench_env()
    os.environ.update(env)
    if not args.keep:
        print(f"rebuilding database {DB_NAME} (migrations, reference data) ...", flush=True)
        recreate_database(env)
    from app import create_app
    app = create_app()
    ensure_staff(app)
    if not args.keep:
        started = time.perf_counter()
        counts = load(app, args.applications, random.Random(args.seed))
        elapsed = time.perf_counter() - started
        print(f"loaded in {elapsed:.1f} s: " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))
    print(f"machine: {machine()}")
    print("load average before timing (1, 5, 15 min): " + ", ".join(f"{value:.1f}" for value in os.getloadavg())
          + " (2 cores shared: figures are slower while others work)")
    results = measure(app, args.runs, args.explain)
    worst = 0.0
    for result in results:
        warm, service = result["warm"], result["service"]
        worst = max(worst, max(warm))
        print(f"\n/stats, {result['label']}: {result['applications']:,} applications, {result['passengers']:,} "
              f"passengers, {result['anomalies']:,} anomalies")
        print(f"  through the test client: cold {result['cold'] * 1000:.0f} ms; warm median "
              f"{statistics.median(warm) * 1000:.0f} ms, max {max(warm) * 1000:.0f} ms ({len(warm)} runs)")
        print(f"  the service alone: median {statistics.median(service) * 1000:.0f} ms")
        print(f"  {len(result['statements'])} SQL statements:")
        for index, (seconds, statement, _) in enumerate(result["statements"]):
            first = " ".join(statement.split())[:110]
            print(f"    {seconds * 1000:7.1f} ms  {first}")
            if result["plans"]:
                for row in result["plans"][index]:
                    print(f"               {row}")
    print("load average after timing: " + ", ".join(f"{value:.1f}" for value in os.getloadavg()))
    verdict = "met" if worst <= TARGET_S else "NOT met"
    print(f"\ntarget: every warm /stats answer ≤ {TARGET_S:.0f} s: {verdict} (worst {worst * 1000:.0f} ms)")
    return 0 if worst <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
