"""`flask notify …`: the sender of subscribe messages (消息发送), and the queue's state.

`flask notify run` runs until stopped (deploy/systemd/fangang-notify.service): each pass first runs
what is scheduled (departure reminders), then sends what is due, straight on while there is work,
every NOTIFY_POLL_SECONDS while idle. SIGTERM or SIGINT lets it finish the message in hand, give back
the rest of its batch, and exit 0. `--once` makes one pass over what is due now (cron, tests).
Without WECHAT_APP_ID/WECHAT_APP_SECRET it refuses to start (exit 1): it would fail the whole queue
as no_wechat. A message whose template's id is missing from WECHAT_TEMPLATES fails as no_template (the
office sends it again after the id is back): a template taken out of the configuration is a decision.
"""
import logging
import signal
import threading
import time
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models.base import utcnow
from app.services.messaging import deliveries, sender
from app.services.notices import schedule
from app.services.people import content_security
from app.services.platform import wechat

log = logging.getLogger(__name__)

notify_cli = AppGroup("notify", help="Subscribe messages to workers: the sender and its queue (消息).")


def _tick(now, stop=None):
    """What is scheduled before a pass: reminders and clearance (notices.schedule), then the worker texts
    WeChat could not check when they were saved (content_security.recheck_pending, which gives up at
    once when WeChat is unreachable or `stop` answers true)."""
    schedule.run_due(now)
    content_security.recheck_pending(stop=stop)


class _Ticker:
    """Runs `_tick` at most once every NOTIFY_POLL_SECONDS, however many passes a busy sender makes."""

    def __init__(self, stop=None):
        self.last, self.stop = None, stop

    def __call__(self):
        started = time.monotonic()
        if self.last is not None and started - self.last < current_app.config["NOTIFY_POLL_SECONDS"]:
            return
        self.last = started
        try:
            _tick(utcnow(), stop=self.stop)
        except Exception:  # noqa: BLE001  (a fault in the reminders must not stop delivery of the rest)
            log.exception("scheduled messages failed; sending what is queued")
            db.session.rollback()


@notify_cli.command("run")
@click.option("--once", is_flag=True, help="One pass over what is due now, then exit (for cron and tests).")
def run(once):
    """Send queued messages to WeChat until stopped (SIGTERM/SIGINT finish the message in hand).

    Without WeChat configured (development: production refuses to start so) nothing is claimed or sent,
    so a host set up wrong never fails the queue; the reminders and clearance messages are still
    written to the in-app inbox.
    """
    send = wechat.client() is not None
    if not send:
        click.echo("WECHAT_APP_ID / WECHAT_APP_SECRET unset: nothing is sent to WeChat and the queue is left as it "
                   "is; only the reminders and clearance messages are written (to the in-app inbox)", err=True)
    stopping = threading.Event()
    with _stopped_by_signals(stopping):
        if once:
            click.echo(_line(_drain(stopping, send)))
        else:
            _run_until_stopped(stopping, send)


@contextmanager
def _stopped_by_signals(stopping):
    """SIGTERM and SIGINT set `stopping` instead of interrupting a send; the previous handlers come back after."""
    previous = {signum: signal.signal(signum, lambda *_: stopping.set())
                for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _run_until_stopped(stopping, send):
    click.echo(f"sender {sender.sender_id()} running; batch {current_app.config['NOTIFY_BATCH']}, "
               f"poll {current_app.config['NOTIFY_POLL_SECONDS']} s")
    totals = {"sent": 0, "retry": 0, "failed": 0, "claimed": 0}
    ticker = _Ticker(stop=stopping.is_set)
    while not stopping.is_set():
        try:
            counts = _pass(stopping, ticker, send)
        except SQLAlchemyError as error:
            # The database went away or a claim deadlocked: nothing is lost (rows stay queued or leased).
            log.warning("sender pass failed: %s", type(error).__name__)
            db.session.rollback()
            counts = {"claimed": 0}
        for key in counts:
            totals[key] += counts[key]
        if counts["claimed"] < current_app.config["NOTIFY_BATCH"]:
            stopping.wait(current_app.config["NOTIFY_POLL_SECONDS"])
    db.session.remove()
    click.echo(f"sender stopped: {_line(totals)}")


def _pass(stopping, ticker, send=True):
    ticker()
    if not send:
        return {"sent": 0, "retry": 0, "failed": 0, "claimed": 0}
    return sender.send_due(stop=stopping.is_set)


def _drain(stopping, send=True):
    """Passes until one claims less than a full batch: everything due now is sent or rescheduled."""
    totals = {"sent": 0, "retry": 0, "failed": 0, "claimed": 0}
    ticker = _Ticker(stop=stopping.is_set)
    while True:
        counts = _pass(stopping, ticker, send)
        for key in totals:
            totals[key] += counts[key]
        if counts["claimed"] < current_app.config["NOTIFY_BATCH"] or stopping.is_set():
            return totals


def _line(counts):
    return f"sent {counts['sent']}, retry later {counts['retry']}, failed {counts['failed']}"


@notify_cli.command("status")
def status():
    """Messages by delivery state, the oldest queued message's age, and failures (the dead letters) by reason."""
    state = deliveries.queue_state()
    click.echo("  ".join(f"{delivery} {count}" for delivery, count in state["counts"].items()))
    age = state["oldest_queued_seconds"]
    click.echo("oldest queued: " + ("none" if age is None else f"{age} s ago"))
    click.echo(f"failed: {state['counts']['failed']}"
               + "".join(f"  {word or '-'} {count}" for word, count in sorted(state["failures"].items(),
                                                                             key=lambda item: str(item[0]))))
