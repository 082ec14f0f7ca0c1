"""Configuration read from environment variables, with safe defaults for development.

Every variable is listed in README.md. Tests pass a mapping to `create_app` instead.
"""
import json
import os

ROOT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"
APP_ENVS = ("development", "testing", "production")


class ConfigError(RuntimeError):
    """Raised when the configuration cannot be used (for example production on a default secret)."""


def _env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _env_float(name, default):
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _env_list(name, default):
    value = os.environ.get(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def _env_json(name, default):
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        parsed = json.loads(value)
    except ValueError as error:
        raise ConfigError(f"{name} must be a JSON object: {error}") from None
    if not isinstance(parsed, dict):
        raise ConfigError(f"{name} must be a JSON object")
    return parsed


def from_environment():
    """Return the configuration mapping built from the process environment."""
    return {
        "APP_ENV": os.environ.get("APP_ENV", "development"),
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEV_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", "sqlite:///fangang.db"),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "DATA_KEY": os.environ.get("DATA_KEY") or None,
        "WECHAT_APP_ID": os.environ.get("WECHAT_APP_ID") or None,
        "WECHAT_APP_SECRET": os.environ.get("WECHAT_APP_SECRET") or None,
        "WECHAT_TIMEOUT": _env_float("WECHAT_TIMEOUT", 5.0),
        # Where WeChat's server API answers; a local fake one in the benchmark and the sender's process tests.
        "WECHAT_API_BASE_URL": os.environ.get("WECHAT_API_BASE_URL") or "https://api.weixin.qq.com/",
        # Subscribe-message template ids by our key (README lists the templates): a JSON object.
        "WECHAT_TEMPLATES": _env_json("WECHAT_TEMPLATES", {}),
        # Which version of the mini-program a message opens: formal, trial or developer.
        "WECHAT_MINIPROGRAM_STATE": os.environ.get("WECHAT_MINIPROGRAM_STATE", "formal"),
        # The sender (flask notify run): retries with backoff up to NOTIFY_MAX_ATTEMPTS; a claimed message
        # whose sender died is taken again after NOTIFY_LEASE_SECONDS.
        "NOTIFY_BATCH": _env_int("NOTIFY_BATCH", 50),
        "NOTIFY_POLL_SECONDS": _env_float("NOTIFY_POLL_SECONDS", 2.0),
        "NOTIFY_LEASE_SECONDS": _env_int("NOTIFY_LEASE_SECONDS", 60),
        "NOTIFY_MAX_ATTEMPTS": _env_int("NOTIFY_MAX_ATTEMPTS", 8),
        "NOTIFY_RETRY_SECONDS": _env_int("NOTIFY_RETRY_SECONDS", 30),
        # Departure reminders: the evening before at this Beijing hour, and this many minutes before.
        "NOTIFY_EVENING_HOUR": _env_int("NOTIFY_EVENING_HOUR", 20),
        "NOTIFY_LEAD_MINUTES": _env_int("NOTIFY_LEAD_MINUTES", 120),
        "TOKEN_TTL_SECONDS": _env_int("TOKEN_TTL_SECONDS", 7 * 24 * 3600),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "20 per minute"),
        "RETENTION_DAYS": _env_int("RETENTION_DAYS", 180),
        "PRIVACY_NOTICE_VERSION": os.environ.get("PRIVACY_NOTICE_VERSION", "2020-02-v1"),
        "FEVER_THRESHOLD": _env_float("FEVER_THRESHOLD", 37.3),
        "OBSERVATION_DAYS": _env_int("OBSERVATION_DAYS", 14),
        "HIGH_RISK_AREAS": _env_list("HIGH_RISK_AREAS", ["湖北", "武汉"]),
        "DECLARATION_MAX_AGE_HOURS": _env_int("DECLARATION_MAX_AGE_HOURS", 24),
        "PROXY_COUNT": _env_int("PROXY_COUNT", 0),
        "MAX_CONTENT_LENGTH": _env_int("MAX_CONTENT_LENGTH", 1024 * 1024),
        "PROFILE_RATE_LIMIT": os.environ.get("PROFILE_RATE_LIMIT", "30 per hour"),
        "STAFF_LOGIN_RATE_LIMIT": os.environ.get("STAFF_LOGIN_RATE_LIMIT", "10 per minute"),
        "STAFF_MAX_FAILED_LOGINS": _env_int("STAFF_MAX_FAILED_LOGINS", 5),
        "STAFF_LOCK_MINUTES": _env_int("STAFF_LOCK_MINUTES", 15),
        "STAFF_TOKEN_TTL_SECONDS": _env_int("STAFF_TOKEN_TTL_SECONDS", 12 * 3600),
        # The console's session cookie travels only over HTTPS in production (forced there); `make run`
        # serves plain http on loopback, so elsewhere it is opt-in.
        "CONSOLE_COOKIE_SECURE": os.environ.get("CONSOLE_COOKIE_SECURE") == "1",
        # Where `npm ci` put the console's front-end packages (htmx, Bootstrap, the QR decoder).
        "CONSOLE_ASSETS_DIR": os.environ.get("CONSOLE_ASSETS_DIR") or os.path.join(ROOT_DIR, "node_modules"),
        "CREDENTIAL_VALID_BEFORE_HOURS": _env_int("CREDENTIAL_VALID_BEFORE_HOURS", 12),
        "CREDENTIAL_VALID_AFTER_HOURS": _env_int("CREDENTIAL_VALID_AFTER_HOURS", 72),
        "BOARDING_GRACE_MINUTES": _env_int("BOARDING_GRACE_MINUTES", 30),
        "TRUST_LIST_CACHE_SECONDS": _env_int("TRUST_LIST_CACHE_SECONDS", 30),
        # Who this deployment is in the trust lists it exchanges with other cities (健康状况互认), and the
        # counties it may issue health certificates for (default: Yinchuan's, as `flask seed` loads them).
        "DEPLOYMENT_ID": os.environ.get("DEPLOYMENT_ID", "640100"),
        "DEPLOYMENT_NAME": os.environ.get("DEPLOYMENT_NAME", "银川市"),
        "DEPLOYMENT_COUNTIES": _env_list("DEPLOYMENT_COUNTIES",
                                         ["640104", "640105", "640106", "640121", "640122", "640181"]),
        "CERTIFICATE_VALID_DAYS": _env_int("CERTIFICATE_VALID_DAYS", 7),
        # The automatic rule: a pre-trip temperature check (at boarding or by staff) no older than this.
        "CERTIFICATE_CHECK_MAX_AGE_HOURS": _env_int("CERTIFICATE_CHECK_MAX_AGE_HOURS", 48),
        "CERTIFICATE_AUTO_ISSUE": os.environ.get("CERTIFICATE_AUTO_ISSUE", "1") == "1",
        # How long a published trust list stays valid, and how old a partner's may be before scans say 复核.
        "TRUST_LIST_VALID_DAYS": _env_int("TRUST_LIST_VALID_DAYS", 7),
        "TRUST_STALE_HOURS": _env_int("TRUST_STALE_HOURS", 24),
        "TRUST_SYNC_TIMEOUT": _env_float("TRUST_SYNC_TIMEOUT", 10.0),
        # Matching a certificate to an ID card costs 0.1 s of scrypt on purpose: per scanner (or address), bounded.
        "CERTIFICATE_ID_CHECK_RATE_LIMIT": os.environ.get("CERTIFICATE_ID_CHECK_RATE_LIMIT", "60 per minute"),
        "TOKEN_CACHE_SECONDS": _env_int("TOKEN_CACHE_SECONDS", 60),
        "SCAN_BATCH_MAX": _env_int("SCAN_BATCH_MAX", 500),
        "DB_CONNECT_TIMEOUT": _env_float("DB_CONNECT_TIMEOUT", 3.0),
        "DB_READ_TIMEOUT": _env_float("DB_READ_TIMEOUT", 5.0),
        "DB_WRITE_TIMEOUT": _env_float("DB_WRITE_TIMEOUT", 5.0),
        "REQUEST_DEADLINE_SECONDS": _env_float("REQUEST_DEADLINE_SECONDS", 15.0),
        "REDIS_TIMEOUT": _env_float("REDIS_TIMEOUT", 1.0),
        "REDIS_BREAKER_SECONDS": _env_float("REDIS_BREAKER_SECONDS", 5.0),
        "RETRY_AFTER_SECONDS": _env_int("RETRY_AFTER_SECONDS", 5),
        "QUEUE_BUDGET_MS": _env_int("QUEUE_BUDGET_MS", 500),
        # Galera (`app.conflicts`, `app.read_path`): how often a write that lost a certification race
        # (error 1213) runs again; the heavy reads' own URL (HAProxy's read port), and the
        # wsrep_sync_wait its connections set (1: a read sees every write committed before it).
        "DB_CONFLICT_RETRIES": _env_int("DB_CONFLICT_RETRIES", 3),
        "DATABASE_READ_URL": os.environ.get("DATABASE_READ_URL") or None,
        "DB_READ_SYNC_WAIT": _env_int("DB_READ_SYNC_WAIT", 1),
    }


def finalize(config, instance_path):
    """Fill derived defaults and refuse settings that are unsafe for the environment.

    Outside production a missing DATA_KEY is generated once into instance/data.key,
    so encrypted fields stay readable across restarts.
    """
    if config["APP_ENV"] not in APP_ENVS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(APP_ENVS)}, not {config['APP_ENV']!r}")
    production = config["APP_ENV"] == "production"
    if production:
        config["CONSOLE_COOKIE_SECURE"] = True
    if production:
        problems = []
        if config["SECRET_KEY"] in (None, "", DEV_SECRET_KEY) or len(config["SECRET_KEY"]) < 32:
            problems.append("SECRET_KEY is unset, the development default or shorter than 32 characters")
        if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            problems.append("DATABASE_URL must point at MySQL/MariaDB, not SQLite")
        if not config.get("DATA_KEY"):
            problems.append("DATA_KEY is unset")
        if not (config.get("WECHAT_APP_ID") and config.get("WECHAT_APP_SECRET")):
            problems.append("WECHAT_APP_ID / WECHAT_APP_SECRET are unset")
        if not config.get("REDIS_URL"):
            problems.append("REDIS_URL is unset")
        if problems:
            raise ConfigError("refusing to start in production: " + "; ".join(problems))
    elif not config.get("DATA_KEY"):
        config["DATA_KEY"] = _instance_data_key(instance_path)
    # gunicorn kills a worker that overruns its timeout, and the client gets a closed connection:
    # the app must give up first, with a 503 it can send.
    gunicorn_timeout = _env_float("GUNICORN_TIMEOUT", 30.0)
    if 0 < gunicorn_timeout <= config["REQUEST_DEADLINE_SECONDS"]:
        raise ConfigError(f"REQUEST_DEADLINE_SECONDS ({config['REQUEST_DEADLINE_SECONDS']:g}) must be below "
                          f"GUNICORN_TIMEOUT ({gunicorn_timeout:g})")

    uri = config["SQLALCHEMY_DATABASE_URI"]
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("mysql"):
        # The server closes idle connections after wait_timeout; recycle well before it. A connection
        # is pinged at checkout only after it sat idle (`extensions.ping_idle_connections`): under load
        # pool_pre_ping's ping at every checkout was one more round trip per request.
        if "pool_pre_ping" not in options:
            options["pool_pre_ping"] = False
            config.setdefault("DB_PING_IDLE_SECONDS", _env_float("DB_PING_IDLE_SECONDS", 1.0))
        options.setdefault("pool_recycle", 1800)
        # The session ends every transaction itself (commit, or rollback when the request's session
        # is removed): the pool's own ROLLBACK on every return would be one more round trip a request.
        options.setdefault("pool_reset_on_return", None)
        if uri.startswith("mysql+pymysql"):
            # A stopped server accepts TCP connections (the kernel does) and never answers: without
            # these, a request waits for as long as it stays stopped. The read timeout given here
            # bounds the handshake and the idle ping; each statement gets DB_READ_TIMEOUT, cut to
            # what is left of the request's deadline (`app.deadline`).
            connect_args = dict(options.get("connect_args") or {})
            connect_args.setdefault("connect_timeout", config["DB_CONNECT_TIMEOUT"])
            connect_args.setdefault("read_timeout", config["DB_CONNECT_TIMEOUT"])
            connect_args.setdefault("write_timeout", config["DB_WRITE_TIMEOUT"])
            options["connect_args"] = connect_args
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if config.get("DATABASE_READ_URL"):
        # The heavy reads' engine (`app.read_path`), with the same options as the primary.
        from app.read_path import binds

        config["SQLALCHEMY_BINDS"] = {**(config.get("SQLALCHEMY_BINDS") or {}), **binds(config)}
    config["RATELIMIT_STORAGE_URI"] = config.get("REDIS_URL") or "memory://"
    config.setdefault("RATELIMIT_KEY_PREFIX", "fangang")
    # If Redis goes down, keep limiting per process rather than failing every login; should the
    # limiter still fail, let the request through rather than answer 503. Its storage uses the
    # app's Redis pool (`extensions.init_redis`): same timeouts, same circuit breaker.
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    return config


def _instance_data_key(instance_path):
    """Read instance/data.key, creating it atomically the first time."""
    from app.crypto import generate_key

    path = os.path.join(instance_path, "data.key")
    if not os.path.exists(path):
        os.makedirs(instance_path, exist_ok=True)
        # Write a private temp file, then link it into place: two gunicorn workers
        # starting together both end up reading the one key that won.
        temp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(generate_key())
        try:
            os.link(temp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temp)
    with open(path) as handle:
        return handle.read().strip()

MIGRATIONS_DIR = os.path.join(ROOT_DIR, "migrations")

# The docs page is served from the swagger-ui-bundle package, so it works with no internet.
API_DOCS = {
    # swagger-ui 4 renders OpenAPI 3.0 documents, not 3.1.
    "OPENAPI_VERSION": "3.0.3",
    "DOCS_FAVICON": "/docs-assets/favicon-32x32.png",
    "SWAGGER_UI_CSS": "/docs-assets/swagger-ui.css",
    "SWAGGER_UI_BUNDLE_JS": "/docs-assets/swagger-ui-bundle.js",
    "SWAGGER_UI_STANDALONE_PRESET_JS": "/docs-assets/swagger-ui-standalone-preset.js",
    "INFO": {
        "description": "返岗通：农民工返岗复工“点对点”服务保障。错误统一为 "
        '{"error": {"code", "message", "fields"}}。',
    },
}
