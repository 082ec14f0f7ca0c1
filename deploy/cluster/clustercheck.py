"""clustercheck: answer HAProxy's health check for one Galera node over HTTP.

HAProxy cannot ask MariaDB whether a node is fit to serve; a TCP connect succeeds on a node that is
still receiving a state transfer, has lost quorum, or is paused. This answers `GET /` with 200 only
when the node is Synced (wsrep_local_state 4), ready (wsrep_ready ON), in the primary component and
not read-only; otherwise 503, and 503 when the node does not answer within the timeout. A donor
(state 2) is out unless --available-when-donor: an rsync donor blocks its own writes.

It runs beside each node, as Percona's clustercheck does under xinetd:

    python clustercheck.py --listen 127.0.0.1:9201 --port 3311 --user clustercheck --password-file F
"""
import argparse
import http.server
import sys
import threading

import pymysql

QUERY = ("SHOW GLOBAL STATUS WHERE Variable_name IN "
         "('wsrep_local_state', 'wsrep_ready', 'wsrep_cluster_status')")


def verdict(status, read_only, available_when_donor=False):
    """(fit, reason) for a node's wsrep status variables and its read_only flag."""
    state = status.get("wsrep_local_state")
    if status.get("wsrep_cluster_status") != "Primary":
        return False, f"not in the primary component ({status.get('wsrep_cluster_status')})"
    if status.get("wsrep_ready") != "ON":
        return False, "wsrep not ready"
    if state != "4" and not (available_when_donor and state == "2"):
        return False, f"not synced (wsrep_local_state {state})"
    if read_only:
        return False, "read-only"
    return True, "synced"


def probe(args):
    """Ask the node; (fit, reason)."""
    try:
        connection = pymysql.connect(host=args.host, port=args.port, user=args.user, password=args.password,
                                     connect_timeout=args.timeout, read_timeout=args.timeout,
                                     write_timeout=args.timeout)
    except pymysql.MySQLError as error:
        return False, f"no answer ({error.args[0] if error.args else error})"
    try:
        with connection.cursor() as cursor:
            cursor.execute(QUERY)
            status = dict(cursor.fetchall())
            cursor.execute("SELECT @@global.read_only")
            read_only = bool(cursor.fetchone()[0])
    except pymysql.MySQLError as error:
        return False, f"no answer ({error.args[0] if error.args else error})"
    finally:
        connection.close()
    return verdict(status, read_only, args.available_when_donor)


def handler_for(args):
    class Check(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            fit, reason = probe(args)
            body = f"Galera node {'is' if fit else 'is not'} fit: {reason}\n".encode()
            self.send_response(200 if fit else 503)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        do_OPTIONS = do_GET  # noqa: N815 (HAProxy's default check method)

        def log_message(self, *_):
            pass  # one probe a second per HAProxy: nothing worth a line

    return Check


def arguments(argv=None):
    """The command line, parsed (the password read from its file)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, help="host:port to answer on")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="the node's client port")
    parser.add_argument("--user", default="clustercheck")
    parser.add_argument("--password-file", help="a file holding the user's password")
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--available-when-donor", action="store_true")
    args = parser.parse_args(argv)
    args.password = ""
    if args.password_file:
        with open(args.password_file, encoding="utf-8") as handle:
            args.password = handle.read().strip()
    return args


def main(argv=None):
    args = arguments(argv)
    host, port = args.listen.rsplit(":", 1)
    server = http.server.ThreadingHTTPServer((host, int(port)), handler_for(args))
    server.daemon_threads = True
    threading.current_thread().name = f"clustercheck-{args.port}"
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
