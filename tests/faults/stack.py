"""What the fault tests run: their own mariadbd and redis-server, gunicorn, and scanners sending scans.

Nothing here touches the machine's MariaDB (3306) or Redis (6379): each service is started on a
free port with its data in a temporary directory, and stopped, killed or paused only by its PID.
"""
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pymysql

ROOT = Path(__file__).resolve().parents[2]
BINARIES = ("mariadbd", "mariadb-install-db", "redis-server")
SCAN_PATH = "/api/checkin/v1/scans"


def missing_binaries():
    """The server programs these tests need that are not installed."""
    return [name for name in BINARIES if shutil.which(name) is None and not Path("/usr/sbin", name).exists()]


def require(switch, why, missing):
    """Skip unless the environment variable `switch` is 1; then skip, or fail with REQUIRE_SERVICES=1, when
    anything in `missing` (the programs the test needs and lacks) is not installed."""
    import pytest

    if os.environ.get(switch) != "1":
        pytest.skip(f"set {switch}=1 to {why} (.ci/run does)")
    if missing:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"REQUIRE_SERVICES=1 but {', '.join(missing)} not installed", pytrace=False)
        pytest.skip(f"{', '.join(missing)} not installed")


def free_port():
    """A TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _which(name):
    return shutil.which(name) or str(Path("/usr/sbin", name))


def wait_until(check, timeout, what):
    """Call `check` until it returns true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready after {timeout} s")


class Process:
    """A server process started by a test; every signal goes to its PID only."""

    process = None

    def start(self):
        """Start the server and wait until it answers."""
        raise NotImplementedError

    def kill(self):
        """SIGKILL: gone at once, as in a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def pause(self):
        """SIGSTOP: still listening (the kernel accepts connections), never answering."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        """SIGCONT after `pause`."""
        self.process.send_signal(signal.SIGCONT)

    def stop(self):
        """Terminate it (resumed first if paused)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Redis(Process):
    """redis-server on a free port, nothing saved to disk."""

    def __init__(self, workdir):
        self.port = free_port()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        """Start (or restart after a kill) on the same port."""
        self.process = subprocess.Popen(
            [_which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.answers, 20, "redis-server")

    def answers(self):
        """Whether it answers PING now."""
        import redis
        try:
            return redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def lookups(self):
        """Keyspace reads served since it started (what the app asks of it), or None if it does not answer."""
        import redis
        try:
            stats = redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5).info("stats")
        except redis.RedisError:
            return None
        return stats["keyspace_hits"] + stats["keyspace_misses"]


class MariaDB(Process):
    """mariadbd with its own datadir, port and socket; root without a password; durable commits."""

    def __init__(self, workdir):
        self.port = free_port()
        self.workdir = workdir
        self.datadir = workdir / "data"
        self.url = f"mysql+pymysql://root@127.0.0.1:{self.port}/fangang?charset=utf8mb4"

    def install(self):
        """Make the system tables in the datadir (a few seconds)."""
        subprocess.run([_which("mariadb-install-db"), "--no-defaults", f"--datadir={self.datadir}", "--user=root",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self):
        """Start (or restart after a kill: InnoDB recovers what was committed) on the same port."""
        self.process = subprocess.Popen(
            [_which("mariadbd"), "--no-defaults", "--user=root", f"--datadir={self.datadir}",
             f"--port={self.port}", "--bind-address=127.0.0.1", f"--socket={self.workdir / 'mysql.sock'}",
             f"--pid-file={self.workdir / 'mariadbd.pid'}", f"--log-error={self.workdir / 'error.log'}",
             "--skip-log-bin", "--innodb-buffer-pool-size=64M", "--innodb-flush-log-at-trx-commit=1",
             "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.answers, 60, "mariadbd")

    def connect(self, database=None):
        """A direct connection (not through the app)."""
        return pymysql.connect(host="127.0.0.1", port=self.port, user="root", database=database,
                               connect_timeout=1, read_timeout=5, autocommit=True)

    def answers(self):
        """Whether it accepts a connection now."""
        try:
            self.connect().close()
            return True
        except pymysql.MySQLError:
            return False

    def stored(self, client_event_ids):
        """Which of these scans the database holds."""
        return stored_scans(self.connect, client_event_ids)


def stored_scans(connect, client_event_ids):
    """Which of these scans the server behind `connect(database)` holds (the fault and cluster tests' loss check)."""
    found, ids = set(), list(client_event_ids)
    with connect("fangang") as connection, connection.cursor() as cursor:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            cursor.execute("SELECT client_event_id FROM scan_events WHERE client_event_id IN "
                           f"({', '.join(['%s'] * len(chunk))})", chunk)
            found.update(row[0] for row in cursor.fetchall())
    return found


class Gunicorn(Process):
    """The app as in production: gunicorn with gunicorn.conf.py (2 sync workers, 30 s timeout)."""

    def __init__(self, env, log_path, ready=("/healthz", 200)):
        self.port = free_port()
        self.env = env
        self.log_path = log_path
        self.ready = ready  # (path, status) that says the app is up

    def start(self):
        """Start and wait until the app answers."""
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "gunicorn.conf.py", "--bind",
             f"127.0.0.1:{self.port}", "wsgi:app"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(self.healthy, 60, "gunicorn")

    def healthy(self):
        """Whether the app answers its `ready` path as expected (by default: /healthz answers 200)."""
        path, status = self.ready
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            connection.request("GET", path)
            return connection.getresponse().status == status
        except OSError:
            return False

    def stop(self):
        """Terminate gunicorn and close its log."""
        super().stop()
        self.log.close()


@dataclass
class Answer:
    """One scan as the scanner saw it."""

    started: float
    seconds: float
    status: int | None  # None: no HTTP answer (connection closed, timed out)
    client_event_id: str
    body: dict | None = None
    retry_after: str | None = None


@dataclass
class Scanners:
    """`threads` scanners sending boarding scans back to back, each scan with a fresh client_event_id."""

    port: int
    pairs: list  # (scanner token, QR text)
    threads: int = 4
    answers: list = field(default_factory=list)

    def __post_init__(self):
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = [threading.Thread(target=self._run, args=(random.Random(n),), daemon=True)
                         for n in range(self.threads)]

    def start(self):
        """Start scanning."""
        for worker in self._workers:
            worker.start()

    def stop(self):
        """Stop and wait for the scans in flight."""
        self._stop.set()
        for worker in self._workers:
            worker.join(120)

    def _run(self, rng):
        while not self._stop.is_set():
            token, qr = rng.choice(self.pairs)
            answer = self.scan(token, qr)
            with self._lock:
                self.answers.append(answer)

    def scan(self, token, qr):
        """Send one scan and wait for its answer, however long it takes (up to 120 s)."""
        event_id = str(uuid.uuid4())
        body = json.dumps({"qr": qr, "kind": "board", "temperature": 36.5, "symptoms": [],
                           "client_event_id": event_id, "device_id": "fault-test",
                           "scanned_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        started = time.monotonic()
        status, parsed, retry_after = None, None, None
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            connection.request("POST", SCAN_PATH, body=body, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            response = connection.getresponse()
            raw = response.read()
            status, retry_after = response.status, response.getheader("Retry-After")
            connection.close()
            parsed = json.loads(raw)
        except (OSError, http.client.HTTPException, ValueError):
            pass
        return Answer(started, time.monotonic() - started, status, event_id, parsed, retry_after)


def app_env(mariadb, redis, data_key):
    """The environment gunicorn runs the app with, pointed at the test's own services."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("WECHAT_", "DB_", "REDIS_", "REQUEST_", "GUNICORN_", "WEB_CONCURRENCY"))
           and key not in ("PROXY_COUNT", "FLASK_APP", "DATABASE_URL", "RETRY_AFTER_SECONDS")}
    env.update({"APP_ENV": "development", "DATABASE_URL": mariadb.url, "REDIS_URL": redis.url,
                "DATA_KEY": data_key, "PYTHONUNBUFFERED": "1"})
    return env
