"""返岗通 Fangang: the application factory."""
import logging

from apiflask import APIFlask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import config as app_config
from app import conflicts, deadline, read_path
from app.errors import register_error_handlers
from app.extensions import db, enforce_sqlite_foreign_keys, init_redis, limiter, migrate, ping_idle_connections
from app.guards import NoCookieSession, register_request_guards
from app.queue_budget import register_queue_budget
from app.request_ids import register_request_ids


def create_app(test_config=None):
    """Build the app: load config, attach extensions, register blueprints and error handlers."""
    app = APIFlask(__name__, title="返岗通 Fangang API", version="1.0", instance_relative_config=True)
    settings = app_config.from_environment()
    if test_config:
        settings.update(test_config)
    app.config.update(app_config.finalize(settings, app.instance_path))
    app.config.update(app_config.API_DOCS)
    app.json.ensure_ascii = False  # Chinese stays readable in responses
    if app.config["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"], x_proto=1)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from app import crypto
    from app.services.platform import wechat

    db.init_app(app)
    read_path.init_app(app)
    enforce_sqlite_foreign_keys(app)
    ping_idle_connections(app)
    migrate.init_app(app, db, directory=app_config.MIGRATIONS_DIR, render_as_batch=True)
    deadline.init_app(app)  # first of the before_request functions: the clock starts with the request
    init_redis(app)
    limiter.init_app(app)
    crypto.init_app(app)
    wechat.init_app(app)

    from app import cli, models  # noqa: F401  (models register their tables)
    from app.web import bp as core_bp
    from checkin import bp as checkin_bp
    from console import bp as console_bp
    from console.web import bp as console_web_bp
    from miniprogram_api import bp as mp_bp

    for blueprint in (core_bp, mp_bp, checkin_bp, console_bp, console_web_bp):
        app.register_blueprint(blueprint)
    cli.register(app)
    conflicts.init_app(app)  # after the blueprints: it wraps their write views
    register_error_handlers(app)
    register_request_guards(app)
    register_queue_budget(app)
    register_request_ids(app)
    app.session_interface = NoCookieSession()
    return app
