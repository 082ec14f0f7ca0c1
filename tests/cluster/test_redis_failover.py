"""Issue 16: kill the Redis primary (SIGKILL) under load; the sentinels promote the replica, scans never stop,
logins go on and are counted in the new primary within seconds. Then the old primary rejoins as a replica.

gunicorn (gunicorn.conf.py, as in production) serves the app against a mariadbd of the test's own and a
SentinelSet (deploy/cluster/sentinel.py, ports 6421/6422 and 26421..26423: offset 30) through
REDIS_SENTINELS. Sixteen scanners scan back to back (scans need no Redis: a scanner's token is looked up
in the database when its cache is unreachable) and one client logs workers in back to back (the
walk-through's `dev:` login, rate limited per address in Redis). It prints a `[cluster]` line: scans
failed (must be 0), the slowest scan, logins failed, seconds from the kill until a login fails no more and
until logins are counted in the new primary, which node is primary after, acknowledged scans missing (0).

Runs only with RUN_CLUSTER=1 (.ci/run sets it): about 40 s.
"""
import base64
import http.client
import json
import os
import random
import threading
import time
from types import SimpleNamespace

import pytest

import redis

from deploy.cluster.sentinel import SentinelSet
from tests.faults import stack

pytestmark = pytest.mark.cluster

OFFSET = 30
WARM_UP = 3.0
COUNTED_BOUND = 15.0  # seconds from the kill until logins are counted in the new primary
AFTER = 3.0
SLOWEST_SCAN_BOUND = 5.0  # a scan never waits for Redis longer than a REDIS_TIMEOUT or so


@pytest.fixture(scope="module")
def stack_up(tmp_path_factory):
    """A mariadbd, a SentinelSet and gunicorn, with 160 scannable passengers."""
    stack.require("RUN_CLUSTER", "kill a Redis primary under load", stack.missing_binaries())
    workdir = tmp_path_factory.mktemp("redis-failover")
    (workdir / "mariadb").mkdir()
    mariadb, group, server = stack.MariaDB(workdir / "mariadb"), SentinelSet(workdir / "redis", OFFSET), None
    try:
        mariadb.install()
        mariadb.start()
        group.start()
        with mariadb.connect() as connection, connection.cursor() as cursor:
            cursor.execute("CREATE DATABASE fangang CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        data_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
        pairs = _passengers(mariadb.url, group, data_key)
        env = stack.app_env(mariadb, SimpleNamespace(url=None), data_key)
        env.pop("REDIS_URL")
        env.update(group.env(), LOGIN_RATE_LIMIT="1000000 per minute")  # counted, never reached
        server = stack.Gunicorn(env, workdir / "gunicorn.log")
        server.start()
        yield SimpleNamespace(mariadb=mariadb, redis=group, gunicorn=server, pairs=pairs)
    finally:
        if server is not None:
            server.stop()
        group.stop()
        mariadb.stop()


def _passengers(database_url, group, data_key):
    """Migrate, load reference data, sign with a fresh key; [(captain token, QR)] as bench/scan_bench.py makes them."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.services.credentials import signing
    from app.services.office.reference_data import load_reference_data
    from bench.scan_bench import make_passengers

    env = group.env()
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": None,
                      "REDIS_SENTINELS": env["REDIS_SENTINELS"], "REDIS_SENTINEL_MASTER": env["REDIS_SENTINEL_MASTER"],
                      "DATA_KEY": data_key, "WECHAT_APP_ID": None, "WECHAT_APP_SECRET": None})
    with app.app_context():
        upgrade()
        load_reference_data()
        signing.ensure_key()
        trips = make_passengers("redis-failover", 160, 80, "哨兵演练城市", random.Random(16))
        db.session.remove()
        db.engine.dispose()
    return [(token, qr) for _, token, qrs in trips for _, qr in qrs]


class Logins:
    """One client logging workers in back to back (`dev:` codes); every answer kept as (ended at, status)."""

    def __init__(self, port):
        self.port = port
        self.answers = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        """Start logging in."""
        self._thread.start()

    def stop(self):
        """Stop and wait for the login in flight."""
        self._stop.set()
        self._thread.join(60)

    def _run(self):
        n = 0
        while not self._stop.is_set():
            n += 1
            status = None
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                connection.request("POST", "/api/mp/v1/session", body=json.dumps({"code": f"dev:sentinel{n % 50}"}),
                                   headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                status = response.status
                connection.close()
            except (OSError, http.client.HTTPException):
                pass
            self.answers.append((time.monotonic(), status))


class LoginCounter:
    """Watches the login limit's counter in whichever node the sentinels name primary, every 0.1 s."""

    def __init__(self, group):
        self.group = group
        self.seen = []  # (time, primary address, counter value or None)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        """Start watching."""
        self._thread.start()

    def stop(self):
        """Stop watching."""
        self._stop.set()
        self._thread.join(10)

    def _run(self):
        while not self._stop.is_set():
            address, value = None, None
            try:
                address = self.group.primary()
                client = self.group.node_at(address).client()
                value = sum(int(client.get(key) or 0) for key in client.scan_iter(match="LIMITS:*/mp.login/*"))
            except (redis.RedisError, StopIteration):
                pass
            self.seen.append((time.monotonic(), address, value))
            time.sleep(0.1)

    def counted_again_at(self, new_primary, after):
        """When the new primary's counter first moved past the value it first showed after `after`."""
        first = None
        for at, address, value in self.seen:
            if at < after or address != new_primary or value is None:
                continue
            if first is None:
                first = value
            elif value != first:
                return at
        return None


def test_redis_primary_killed_under_scans_and_logins(stack_up, capsys):
    group, gunicorn = stack_up.redis, stack_up.gunicorn
    scanners = stack.Scanners(gunicorn.port, stack_up.pairs, threads=16)
    logins, counter = Logins(gunicorn.port), LoginCounter(group)
    scanners.start()
    logins.start()
    counter.start()
    time.sleep(WARM_UP)
    killed_at = time.monotonic()
    old = group.kill_primary()
    new = group.wait_failover(old, timeout=COUNTED_BOUND)
    promoted_after = time.monotonic() - killed_at
    stack.wait_until(lambda: counter.counted_again_at(new, killed_at) is not None, COUNTED_BOUND,
                     "logins counted in the new primary")
    time.sleep(AFTER)
    scanners.stop()
    logins.stop()
    counter.stop()

    answers = scanners.answers
    acknowledged = [a.client_event_id for a in answers if a.status == 200]
    missing = set(acknowledged) - stack_up.mariadb.stored(acknowledged)
    failed_scans = [a for a in answers if a.status != 200]
    failed_logins = [(at, status) for at, status in logins.answers if status != 201 and at >= killed_at]
    last_failed_login = max((at for at, _ in failed_logins), default=killed_at)
    figures = {
        "scans": len(answers), "scans failed": len(failed_scans),
        "slowest scan s": round(max(a.seconds for a in answers), 2),
        "logins": len(logins.answers), "logins failed": len(failed_logins),
        "logins succeed again after s": round(last_failed_login - killed_at, 2),
        "replica promoted after s": round(promoted_after, 2),
        "logins counted in the new primary after s": round(counter.counted_again_at(new, killed_at) - killed_at, 2),
        "primary": f"{old[1]} → {new[1]}",
        "acknowledged scans missing": len(missing),
    }
    started = time.monotonic()
    group.restart_old()
    group.wait_settled()
    figures["old primary back as a replica after s"] = round(time.monotonic() - started, 2)
    role = group.node_at(old).client().info("replication")["role"]
    with capsys.disabled():
        print("\n[cluster] Redis primary killed under 16 scanners and a login loop: "
              + "; ".join(f"{key} {value}" for key, value in figures.items()) + f"; old primary's role {role}")

    assert figures["scans failed"] == 0, [(a.status, a.body) for a in failed_scans[:5]]
    assert figures["slowest scan s"] <= SLOWEST_SCAN_BOUND
    assert figures["acknowledged scans missing"] == 0
    assert figures["logins failed"] == 0  # the limits count in process memory meanwhile
    assert new != old and group.primary() == new
    assert figures["logins counted in the new primary after s"] <= COUNTED_BOUND
    assert role == "slave"
