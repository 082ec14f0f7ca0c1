"""Redis that fails fast: short timeouts, no retry storm, and a circuit breaker per process.

redis-py 8 retries a failed command ten times with backoff by default, and every use of Redis
here (scanner token cache, QR cache, rate limits, WeChat's access token) has a fallback or
can do without. So a hung Redis must cost little: one timeout (REDIS_TIMEOUT), after which
Redis is not tried again for REDIS_BREAKER_SECONDS in this process. Meanwhile every command
fails at once with `RedisPaused` (a redis ConnectionError, which callers already catch), then
one command probes it again; an answer closes the breaker.

The breaker lives in the connection class, so every client built on the pool shares it: the
app's own client, Flask-Limiter's storage (given the pool) and wechatpy's token storage.

Under Redis Sentinel (`make_sentinel_pool`) the pool asks the sentinels where the primary is before
each new connection, and a connection whose primary moved (a failover) is dropped before its next
command rather than sent on to the old node (which refuses writes as a replica, or is gone). While the
breaker is open it asks the sentinels, at most every SENTINEL_LOOKUP_SECONDS, whether the primary
moved: if it did, the next command goes to the new one at once instead of after the breaker's interval.
"""
import logging
import threading
import time

from redis import ConnectionPool
from redis.backoff import NoBackoff
from redis.connection import Connection, SSLConnection, UnixDomainSocketConnection, parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry
from redis.sentinel import MasterNotFoundError, Sentinel, SentinelConnectionPool, SentinelManagedConnection

# While the breaker is open, how often (s) a sentinel-managed pool asks the sentinels whether the primary moved.
SENTINEL_LOOKUP_SECONDS = 0.5
# While it is closed, how often: a requested failover (SENTINEL FAILOVER) leaves the old primary up and
# accepting writes until the sentinels turn it into a replica (up to ~15 s later); writes sent to it meanwhile
# would be lost. One SENTINEL MASTERS per process per second costs nothing.
SENTINEL_RECHECK_SECONDS = 1.0

log = logging.getLogger(__name__)


class RedisPaused(RedisConnectionError):
    """Redis failed recently, so this command was not sent (the breaker is open)."""


class Breaker:
    """Open after a failure; then let one call through per `interval` seconds until one succeeds."""

    def __init__(self, interval):
        self.interval = interval
        self._lock = threading.Lock()
        self._closed_until = None  # None: closed; else the monotonic time the next probe may go
        self.on_recovery = []  # called (no arguments) when Redis answers again after a failure

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

    def failed(self, error, address=None):
        """Record a failure (of the node at `address`, if known): no call goes to Redis for `interval` seconds."""
        with self._lock:
            if self._closed_until is None:
                log.warning("Redis failed (%s): not used for %s s", type(error).__name__, self.interval)
            self._closed_until = time.monotonic() + self.interval

    def succeeded(self):
        """Record an answer: the breaker closes."""
        if self._closed_until is not None:
            with self._lock:
                recovered = self._closed_until is not None
                self._closed_until = None
            if recovered:
                log.info("Redis answers again")
                for callback in self.on_recovery:
                    callback()

    @property
    def is_open(self):
        """Whether Redis is being skipped now."""
        return self._closed_until is not None


class SentinelBreaker(Breaker):
    """A breaker that, while open, lets a call through as soon as the sentinels name a new primary.

    `locate` returns the primary's (host, port) as the sentinels say (raising a redis ConnectionError
    while they name none: the primary is down and not yet replaced). It is asked at most every
    `lookup_interval` seconds, by the call that finds the breaker open.
    """

    def __init__(self, interval, lookup_interval=SENTINEL_LOOKUP_SECONDS):
        super().__init__(interval)
        self.lookup_interval = lookup_interval
        self.locate = None  # set by make_sentinel_pool once the pool exists
        self._failed_address = None
        self._next_lookup = 0.0
        self._next_recheck = 0.0

    def recheck_due(self):
        """True once per SENTINEL_RECHECK_SECONDS (for one caller): time to ask the sentinels where the primary is."""
        now = time.monotonic()
        if now < self._next_recheck:
            return False
        with self._lock:
            if now < self._next_recheck:
                return False
            self._next_recheck = now + SENTINEL_RECHECK_SECONDS
            return True

    def failed(self, error, address=None):
        """Record a failure and the node it came from (None: the sentinels named no primary)."""
        super().failed(error, address)
        self._failed_address = address

    def allow(self):
        """True if the breaker is closed, this call is the probe, or the primary moved since the failure."""
        if super().allow():
            return True
        with self._lock:
            now = time.monotonic()
            if self.locate is None or now < self._next_lookup:
                return False
            self._next_lookup = now + self.lookup_interval
        try:
            address = self.locate()
        except (RedisConnectionError, RedisTimeoutError):
            return False
        if address == self._failed_address:
            return False
        with self._lock:
            self._closed_until = time.monotonic() + self.interval  # this call is the probe
        log.info("Redis primary is now %s:%s: trying it", *address)
        return True


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
        self._admitted = False  # set by a connect() that asked the breaker before connect_check_health runs

    def connect_check_health(self, *args, **kwargs):
        """Connect (the pool does before each command), unless the breaker is open; a failure opens it."""
        if self._sock is None:
            if self._admitted:
                self._admitted = False  # connect() already asked the breaker for this connect
            else:
                self._check_breaker()
            self._let_through = True
        self._connecting = True
        try:
            return super().connect_check_health(*args, **kwargs)
        except RedisPaused:
            raise
        except (RedisConnectionError, RedisTimeoutError) as error:
            self._let_through = False
            self.breaker.failed(error, self._address())
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
            self.breaker.failed(error, self._address())
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
            self.breaker.failed(error, self._address())
            raise
        self.breaker.succeeded()
        return response

    def _address(self):
        return getattr(self, "host", None), getattr(self, "port", None)


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


class _SentinelGuarded(_Guarded):
    """The breaker, on a connection to whichever node the sentinels name primary.

    redis-py reconnects a dropped connection (its retry after a reset, say) to the address it had,
    bypassing the sentinels: after a failover that is the old primary, now a replica (READONLY) or
    gone. Here every reconnect asks the sentinels, and a socket to an address that is no longer the
    primary's is dropped before its next command.
    """

    def connect(self):
        """Ask the sentinels for the primary and connect to it, unless the breaker is open; a failure opens it."""
        if self._sock is not None:
            return
        self._check_breaker()
        self._admitted = True
        try:
            return super().connect()
        except RedisPaused:
            raise
        except (RedisConnectionError, RedisTimeoutError) as error:
            self._let_through = False
            self.breaker.failed(error, None if isinstance(error, MasterNotFoundError) else self._address())
            raise
        finally:
            self._admitted = False

    def send_packed_command(self, command, check_health=True):
        """Send to the current primary: reconnect through the sentinels if the socket is gone or points elsewhere."""
        if not self._connecting:
            if self._sock is not None and self.breaker.recheck_due():
                try:
                    self.connection_pool.get_master_address()  # on a change: drops idle sockets, updates master_address
                except (RedisConnectionError, RedisTimeoutError):
                    pass  # no answer, or no primary named just now: keep the socket; it fails by itself if dead
            primary = self.connection_pool.master_address
            if self._sock is not None and primary is not None and primary != self._address():
                self.disconnect()  # opened before the failover this process has since learnt of
            if self._sock is None:
                self.connect()
        return super().send_packed_command(command, check_health)


class GuardedSentinelConnection(_SentinelGuarded, SentinelManagedConnection):
    """TCP connection to the primary the sentinels name, with the breaker."""


def make_sentinel_pool(sentinels, service_name, url, timeout, breaker_seconds):
    """A pool of connections to `service_name`'s primary, found through `sentinels` [(host, port)], with the breaker.

    `url` (REDIS_URL, optional) gives the database number, user name and password; its host is not used,
    nor its scheme (the nodes are reached over plain TCP, as the sentinels are).
    Sentinels are asked with the same timeout and no retry (one that is down is skipped at once).
    """
    options = {}
    if url:
        options = {key: value for key, value in parse_url(url).items()
                   if key in ("db", "username", "password")}
    sentinel = Sentinel(sentinels, sentinel_kwargs={
        "socket_timeout": timeout, "socket_connect_timeout": timeout, "retry": Retry(NoBackoff(), 0)})
    breaker = SentinelBreaker(breaker_seconds)
    pool = SentinelConnectionPool(
        service_name, sentinel,
        connection_class=GuardedSentinelConnection,
        breaker=breaker,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),  # as in make_pool
        **options,
    )
    breaker.locate = pool.get_master_address  # also drops idle connections to an old primary
    return pool


def breaker_of(client):
    """The breaker of a client built on `make_pool` (None for any other client)."""
    return client.connection_pool.connection_kwargs.get("breaker")
