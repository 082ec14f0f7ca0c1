"""Issue 16: the app, its rate limits and the WeChat token cache reach Redis through Sentinel and follow a failover.

A SentinelSet of this module's own (deploy/cluster/sentinel.py: a primary, a replica, three sentinels on
loopback ports 6411.., 26411.. for the SQLite run, 6416.., 26416.. for the MariaDB run, which runs at the
same time; others if those are taken) serves an app built with REDIS_SENTINELS. What each part writes is read back from the node the
sentinels name primary, directly. The primary is first killed (SIGKILL: the sentinels agree it is down
and promote the replica), then, once the killed node is back as a replica, handed over on request
(SENTINEL FAILOVER: the old primary stays up as a replica that refuses writes, so pooled sockets to it
answer READONLY rather than failing). After each, every part must be writing to the new primary
within a few seconds. Skipped without redis-server, unless REQUIRE_SERVICES=1.
"""
import json
import os
import shutil
import socket
import time

import pytest
import redis

from app.extensions import redis_client
from app.redis_breaker import breaker_of
from app.services.platform import cache, wechat
from deploy.cluster.sentinel import SentinelSet
from tests.fake_wechat import FakeWeChat

# The two backends' processes run at once: their own ports each, and a second choice should another run of
# this suite hold the first (tests/cluster uses offset 30).
OFFSETS = {"sqlite": (20, 36), "mariadb": (25, 40)}
FOLLOW_BOUND = 3.0  # seconds from the sentinels naming a new primary until a part writes to it
KILL_BOUND = 10.0  # seconds from the SIGKILL until the app writes to the new primary (down-after is 2 s)


@pytest.fixture(scope="module")
def redis_set(backend, tmp_path_factory):
    """The module's own primary, replica and three sentinels."""
    if shutil.which("redis-server") is None:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("REQUIRE_SERVICES=1 but redis-server is not installed", pytrace=False)
        pytest.skip("redis-server is not installed")
    group = SentinelSet(tmp_path_factory.mktemp("sentinel"), offset=_free_offset(OFFSETS[backend["BACKEND"]]))
    try:
        group.start()
        yield group
    finally:
        group.stop()


def _free_offset(offsets):
    """The first offset whose five ports nothing listens on."""
    for offset in offsets:
        ports = [6391 + offset, 6392 + offset] + [26391 + n + offset for n in range(3)]
        if not any(_listening(port) for port in ports):
            return offset
    pytest.fail(f"the ports of offsets {offsets} are all taken")


def _listening(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def sentinel_app(make_app, redis_set):
    """An app that finds Redis through the sentinels, WeChat configured against a local fake."""
    with FakeWeChat() as fake:
        app = make_app(REDIS_URL=None, **redis_set.env(), REDIS_TIMEOUT=0.5, REDIS_BREAKER_SECONDS=5.0,
                       LOGIN_RATE_LIMIT="1000 per minute", WECHAT_APP_ID="wx-sentinel", WECHAT_APP_SECRET="s",
                       WECHAT_API_BASE_URL=fake.url)
        yield app


def primary_client(redis_set):
    """A direct client of the node the sentinels name primary now."""
    return redis_set.node_at(redis_set.primary()).client()


CLIENT_ADDRESS = f"10.16.{os.getpid() % 250}.7"  # the logins' address: their limit's key in Redis names it


def login_count(redis_set):
    """The logins counted from CLIENT_ADDRESS, as the primary holds them (Flask-Limiter's key)."""
    client = primary_client(redis_set)
    keys = list(client.scan_iter(match=f"LIMITS:*/{CLIENT_ADDRESS}/mp.login/*"))
    return sum(int(client.get(key) or 0) for key in keys)


def writes_reach_primary(redis_set, app, marker):
    """Write through the app's client, the limiter (a login) and the token cache; which reached the primary.

    While the sentinels still name a dead primary, nothing did.
    """
    try:
        return _writes_reach_primary(redis_set, app, marker)
    except redis.ConnectionError:  # the direct reads: the primary they name is down
        return {"client": False, "limiter": False, "token cache": False}


def _writes_reach_primary(redis_set, app, marker):
    http = app.test_client()
    with app.app_context():
        cache.set_bytes("sentinel-probe", marker.encode(), 60)
        before = login_count(redis_set)
        response = http.post("/api/mp/v1/session", json={"code": f"s-{marker}"},
                             environ_base={"REMOTE_ADDR": CLIENT_ADDRESS})
        assert response.status_code == 201
        token_client = wechat.client()
        token_client.session.delete(token_client.access_token_key)
        token_client.expires_at = None
        token = token_client.access_token  # fetched from the fake and stored through TokenStorage
        prefix = app.config["RATELIMIT_KEY_PREFIX"]
    primary = primary_client(redis_set)
    return {
        "client": primary.get(f"{prefix}:cache:sentinel-probe") == marker,
        "limiter": login_count(redis_set) == before + 1,
        "token cache": primary.get(f"{prefix}:wechatpy:wx-sentinel_access_token") == json.dumps(token),  # as wechatpy stores it
    }


def until_all(check, bound):
    """Call `check` until every value it returns is true; return (seconds taken, last answer)."""
    started = time.monotonic()
    while True:
        answer = check()
        if all(answer.values()) or time.monotonic() - started > bound:
            return time.monotonic() - started, answer
        time.sleep(0.1)


def test_every_part_writes_to_the_primary_the_sentinels_name(sentinel_app, redis_set):
    assert writes_reach_primary(redis_set, sentinel_app, "first") == {
        "client": True, "limiter": True, "token cache": True}
    response = sentinel_app.test_client().get("/healthz")
    assert response.status_code == 200 and response.json["redis"] == {"ok": True, "configured": True}


def test_after_the_primary_is_killed_every_part_follows_the_promoted_replica(sentinel_app, redis_set, capsys):
    assert all(writes_reach_primary(redis_set, sentinel_app, "warm").values())
    killed_at = time.monotonic()
    old = redis_set.kill_primary()
    took, answer = until_all(lambda: writes_reach_primary(redis_set, sentinel_app, "killed"), KILL_BOUND)
    promoted = redis_set.primary()
    with capsys.disabled():
        print(f"\n[sentinel] primary {old[1]} killed: the app wrote to {promoted[1]} after {took:.1f} s")
    assert answer == {"client": True, "limiter": True, "token cache": True}
    assert promoted != old
    assert time.monotonic() - killed_at <= KILL_BOUND
    with sentinel_app.app_context():
        assert not breaker_of(redis_client()).is_open
    redis_set.restart_old()  # back as a replica: the next test hands over to it
    assert redis_set.node_at(old).client().info("replication")["role"] == "slave"
    redis_set.wait_settled()


def test_after_a_requested_failover_every_part_follows_at_once(sentinel_app, redis_set, capsys):
    """The old primary stays up as a replica: pooled sockets to it get READONLY, and must move."""
    assert all(writes_reach_primary(redis_set, sentinel_app, "before").values())
    old = redis_set.primary()
    redis_set.failover()
    new = redis_set.wait_failover(old)
    took, answer = until_all(lambda: writes_reach_primary(redis_set, sentinel_app, "handed"), FOLLOW_BOUND)
    with capsys.disabled():
        print(f"\n[sentinel] SENTINEL FAILOVER {old[1]} → {new[1]}: the app wrote to {new[1]} after {took:.2f} s")
    assert answer == {"client": True, "limiter": True, "token cache": True}
