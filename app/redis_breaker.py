"""Redis that fails fast: short timeouts, no retry storm, and a circuit breaker per process.

redis-py 8 retries a failed command ten times with backoff by default, and every use of Redis
here (scanner token cache, QR cache, rate limits, WeChat's access token) has a fallback or
can do without. So a hung Redis must cost little: one timeout (REDIS_TIMEOUT), after which
Redis is not tried again for REDIS_BREAKER_SECONDS in this process. Meanwhile every command
fails at once with `RedisPaused` (a redis ConnectionError, which callers already catch), then
one command probes it again; an answer closes the breaker.

The breaker lives in the connection class, so every client built on the pool shares it: the
app's own client, Flask-Limiter's storage (given the pool) and wechatpy's token storage.
"""
import logging
import threading
import time

from redis import ConnectionPool
from redis.backoff import NoBackoff
from redis.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

log = logging.getLogger(__name__)


class RedisPaused(RedisConnectionError):
    """Redis failed recently, so this command was not sent (the breaker is open)."""


class Breaker:
    """Open after a failure; then let one call through per `interval` seconds until one succeeds."""

    def __init__(self, interval):
        self.interval = interval
        self._lock = threading.Lock()
        self._closed_until = None  # None: closed; else the monotonic time the next probe may go

    def allow(self):
        """True if a call may go to Redis now (the breaker is closed, or this call is the probe)."""
        if self._closed_until is None:
            return True
        with self._lock:
            now = time.monotonic()
            if self._closed_until is None:
                return True
            if now < self._closed_until:
                return False
            self._closed_until = now + self.interval  # one probe per interval, whatever becomes of it
            return True

    def failed(self, error):
        """Record a failure: no call goes to Redis for `interval` seconds."""
        with self._lock:
            if self._closed_until is None:
                log.warning("Redis failed (%s): not used for %s s", type(error).__name__, self.interval)
            self._closed_until = time.monotonic() + self.interval

    def succeeded(self):
        """Record an answer: the breaker closes."""
        if self._closed_until is not None:
            with self._lock:
                if self._closed_until is not None:
                    log.info("Redis answers again")
                self._closed_until = None

    @property
    def is_open(self):
        """Whether Redis is being skipped now."""
        return self._closed_until is not None


class _Guarded:
    """Mixin for redis-py connections: consult and feed the breaker.

    A timeout, or a failure to connect, opens it. An error on an established socket does not:
    after Redis restarts, every pooled socket fails once, and the single retry allowed
    (`make_pool`) reconnects; if that connect fails, it opens the breaker then.
    """

    def __init__(self, *args, breaker, **kwargs):
        super().__init__(*args, **kwargs)
        self.breaker = breaker
        self._connecting = False  # the handshake's own commands go with the connect the breaker let through
        self._let_through = False  # a connect the breaker let through: the command after it goes too

    def connect_check_health(self, *args, **kwargs):
        """Connect (the pool does before each command), unless the breaker is open; a failure opens it."""
        if self._sock is None:
            self._check_breaker()
            self._let_through = True
        self._connecting = True
        try:
            return super().connect_check_health(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError) as error:
            self._let_through = False
            self.breaker.failed(error)
            raise
        finally:
            self._connecting = False

    def send_packed_command(self, command, check_health=True):
        """Send, unless the breaker is open; a timeout opens it."""
        if self._connecting:
            pass
        elif self._let_through:
            self._let_through = False
        else:
            self._check_breaker()
        try:
            return super().send_packed_command(command, check_health)
        except RedisTimeoutError as error:
            self.breaker.failed(error)
            raise

    def _check_breaker(self):
        if not self.breaker.allow():
            self._let_through = False
            self.disconnect()
            raise RedisPaused("Redis failed recently; skipped until the next probe")

    def read_response(self, *args, **kwargs):
        """Read an answer; any answer (an error reply too) closes the breaker."""
        try:
            response = super().read_response(*args, **kwargs)
        except ResponseError:
            self.breaker.succeeded()
            raise
        except RedisTimeoutError as error:
            self.breaker.failed(error)
            raise
        self.breaker.succeeded()
        return response


class GuardedConnection(_Guarded, Connection):
    """TCP connection with the breaker."""


class GuardedSSLConnection(_Guarded, SSLConnection):
    """TLS connection (rediss://) with the breaker."""


class GuardedUnixConnection(_Guarded, UnixDomainSocketConnection):
    """Unix socket connection (unix://) with the breaker."""


def make_pool(url, timeout, breaker_seconds):
    """A connection pool for `url` whose connections time out after `timeout` s and share one breaker."""
    scheme = url.split(":", 1)[0].lower()
    connection_class = {"rediss": GuardedSSLConnection, "unix": GuardedUnixConnection}.get(scheme, GuardedConnection)
    return ConnectionPool.from_url(
        url,
        connection_class=connection_class,
        breaker=Breaker(breaker_seconds),
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        # One immediate retry, on a connection error only: it replaces a pooled socket Redis closed
        # (a restart) at no cost. A timeout is never retried: that is what made a hung Redis cost
        # eleven timeouts per command.
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )


def breaker_of(client):
    """The breaker of a client built on `make_pool` (None for any other client)."""
    return client.connection_pool.connection_kwargs.get("breaker")
