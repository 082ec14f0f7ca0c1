"""gunicorn settings; each can be overridden by its environment variable."""
import gc
import os

import gunicorn_errors

# gunicorn's own error answers (414, 431, 400, a worker aborted on timeout) in the JSON error shape.
gunicorn_errors.install()

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Several instances may share a host; none needs gunicorn's control socket.
control_socket_disable = True
accesslog = "-"
# The access log shows paths only; query strings could carry codes, so they are left out. What the
# client sent is escaped (app/access_log.py), and rid= is the request id nginx's log and the JSON error carry.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
logger_class = "app.access_log.EscapingLogger"


def post_worker_init(worker):
    """Move what the worker loaded (the app, its models, schemas and libraries) out of the garbage collector's sight.

    Those objects live as long as the worker. Without this, every full collection walks all of
    them again: measured with callgrind, a quarter of the instructions of an online scan and a
    fifth of an uploaded one (see README, "Check-in benchmark").
    """
    gc.collect()
    gc.freeze()


def worker_abort(worker):
    """A worker past GUNICORN_TIMEOUT is being aborted: its request is answered 503, in JSON."""
    gunicorn_errors.worker_aborted()
