"""The sender as a real process (`flask notify run`) against tests/fake_wechat.py: killed, stopped, doubled.

- SIGKILL mid-batch, then the sender again: every message ends "sent" and WeChat received each once,
  except at most one (the message whose send WeChat had taken when the kill came, before its mark).
- SIGTERM: the message in hand is finished, the rest of the batch given back; exit 0; no duplicate.
- Two senders at once: both send, none twice.

On both backends: MariaDB claims with SKIP LOCKED, SQLite (its file shared by the processes) with a
conditional UPDATE under its database-wide write lock.
"""
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Message
from tests.fake_wechat import FakeWeChat
from tests.messaging.sender_helpers import TEMPLATE_IDS, queue, subject_of, wechat_settings

ROOT = Path(__file__).resolve().parents[2]
COUNT = 200


@pytest.fixture
def fake():
    """The fake WeChat, answering each send after 20 ms (so a sender is mid-batch most of the time)."""
    with FakeWeChat(latency=0.02) as server:
        yield server


@pytest.fixture
def queued(make_app, fake):
    """COUNT messages queued to 20 workers, with an app pointed at the fake WeChat; (app, ids)."""
    app = make_app(**wechat_settings(fake.url))
    with app.app_context():
        ids = []
        for worker in range(20):
            ids += queue(COUNT // 20, openid=f"o-kill-{worker}", start=worker * (COUNT // 20))
    return app, ids


def start_sender(app, fake, *args):
    """`flask notify run` as its own process, on the test database and the fake WeChat (2 s leases)."""
    config = app.config
    env = {**os.environ, "FLASK_APP": "wsgi", "APP_ENV": "testing", "SECRET_KEY": "test-secret",
           "DATA_KEY": config["DATA_KEY"], "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
           "REDIS_URL": config.get("REDIS_URL") or "", "WECHAT_APP_ID": config["WECHAT_APP_ID"],
           "WECHAT_APP_SECRET": config["WECHAT_APP_SECRET"], "WECHAT_API_BASE_URL": fake.url,
           "WECHAT_TEMPLATES": json.dumps(TEMPLATE_IDS), "WECHAT_TIMEOUT": "2", "NOTIFY_LEASE_SECONDS": "2",
           "NOTIFY_POLL_SECONDS": "0.2", "NOTIFY_BATCH": "50"}
    return subprocess.Popen([sys.executable, "-m", "flask", "notify", "run", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(check, timeout, what):
    """Poll `check` every 50 ms until true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} within {timeout} s")


def deliveries(fake):
    """{m<n>: how many times WeChat received message n}."""
    with fake.lock:
        return Counter(subject_of(body) for body in fake.deliveries)


def deliveries_by_state(app):
    """{delivery: count} of the messages table."""
    with app.app_context():
        db.session.remove()
        return dict(db.session.execute(select(Message.delivery, func.count()).group_by(Message.delivery)).all())


def stopped(process, signum):
    """Send a signal and wait for the exit; (returncode, stdout, stderr)."""
    process.send_signal(signum)
    out, err = process.communicate(timeout=20)
    return process.returncode, out, err


def test_a_sender_killed_mid_batch_leaves_at_most_one_duplicate(queued, fake):
    app, ids = queued
    first = start_sender(app, fake)
    try:
        wait_for(lambda: len(fake.deliveries) >= 70, 20, "the first sender did not get going")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    at_kill = len(fake.deliveries)
    state = deliveries_by_state(app)
    assert 0 < at_kill < COUNT and state.get("sending", 0) > 0  # killed in the middle of a batch
    time.sleep(2.2)  # NOTIFY_LEASE_SECONDS: the dead sender's claims lapse
    again = start_sender(app, fake, "--once")
    out, err = again.communicate(timeout=30)
    assert again.returncode == 0, err
    assert deliveries_by_state(app) == {"sent": COUNT}
    counts = deliveries(fake)
    assert set(counts) == {f"m{n}" for n in range(COUNT)}  # every message reached WeChat
    duplicates = {subject: times for subject, times in counts.items() if times > 1}
    assert len(duplicates) <= 1 and set(duplicates.values()) <= {2}, duplicates
    print(f"\nkilled after {at_kill} deliveries; duplicates: {duplicates or 'none'}; second run: {out.strip()}")


def test_sigterm_finishes_the_message_in_hand_and_gives_back_the_rest(queued, fake):
    app, ids = queued
    sender = start_sender(app, fake)
    wait_for(lambda: len(fake.deliveries) >= 30, 20, "the sender did not get going")
    code, out, err = stopped(sender, signal.SIGTERM)
    assert code == 0, err
    assert "sender stopped: sent" in out
    state = deliveries_by_state(app)
    assert "sending" not in state and state["sent"] == len(fake.deliveries) < COUNT
    again = start_sender(app, fake, "--once")
    again.communicate(timeout=30)
    assert deliveries_by_state(app) == {"sent": COUNT}
    assert set(deliveries(fake).values()) == {1}  # a clean stop sends nothing twice


def test_two_senders_at_once_send_everything_exactly_once(queued, fake):
    app, ids = queued
    senders = [start_sender(app, fake) for _ in range(2)]
    try:
        wait_for(lambda: deliveries_by_state(app).get("sent") == COUNT, 40, "not all sent")
    finally:
        results = [stopped(process, signal.SIGTERM) for process in senders]
    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    counts = deliveries(fake)
    assert len(counts) == COUNT and set(counts.values()) == {1}
    sent_by = [int(out.split("sender stopped: sent ")[1].split(",")[0]) for _, out, _ in results]
    assert sum(sent_by) == COUNT and min(sent_by) > 0, sent_by  # both took part
