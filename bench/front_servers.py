"""The servers bench/front_check.py starts: nginx with deploy/nginx/fangang.conf and gunicorn behind it.

Both run in a temporary directory of their own (nginx's prefix, pid, temp and log paths; gunicorn's
unix socket), on loopback, and are stopped by the PID this process started, never by name. No system
nginx is touched: nginx gets its own main configuration (-c) and prefix (-p).
"""
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scan_bench import _cpu_seconds, _own_seconds, _stat_seconds, mariadb_seconds  # noqa: E402

SITE = ROOT / "deploy" / "nginx" / "fangang.conf"
NGINX = "/usr/sbin/nginx"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def render_site(https_port, http_port, socket_path, workdir):
    """deploy/nginx/fangang.conf with only its "site:" lines changed: loopback ports, no TLS, our socket and logs.

    Every change must match exactly once, so an edit of the shipped file that this harness does not
    know about fails here instead of testing something else.
    """
    text = SITE.read_text()
    changes = [
        ("listen 80 default_server;", f"listen 127.0.0.1:{http_port} default_server;"),
        ("listen [::]:80 default_server;", ""),
        # TLS is the one thing left out: the client here speaks plain HTTP to the port that would be 443.
        ("listen 443 ssl http2 default_server;", f"listen 127.0.0.1:{https_port} default_server;"),
        ("listen [::]:443 ssl http2 default_server;", ""),
        ("ssl_certificate     /etc/ssl/fangang/fullchain.pem;", ""),
        ("ssl_certificate_key /etc/ssl/fangang/privkey.pem;", ""),
        ("unix:/run/fangang/gunicorn.sock", f"unix:{socket_path}"),
        ("/var/log/nginx/fangang.access.log", str(workdir / "nginx-access.log")),
        ("/var/log/nginx/fangang.error.log", str(workdir / "nginx-error.log")),
    ]
    for old, new in changes:
        count = text.count(old)
        if count != 1:
            raise SystemExit(f"{SITE}: expected {old!r} once, found it {count} times; update bench/front_servers.py")
        text = text.replace(old, new)
    site_lines = [line for line in text.splitlines() if "# site:" in line and line.split("#")[0].strip()]
    unchanged = [line for line in site_lines if "127.0.0.1" not in line and str(workdir) not in line]
    if unchanged:
        raise SystemExit(f"{SITE}: site-specific lines this harness does not rewrite: {unchanged}")
    return text


def main_conf(workdir, site_path):
    """An nginx.conf like Debian's (one http block including the site), with every path in `workdir`."""
    return f"""# written by bench/front_servers.py: Debian's nginx.conf in miniature, every path under this directory
worker_processes 2;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-main-error.log warn;
events {{
    worker_connections 4096;
}}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {workdir}/client_body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    access_log {workdir}/nginx-default-access.log;
    include {site_path};
}}
"""


class Nginx:
    """nginx in the foreground (daemon off) as our child; stop() ends that master PID, which ends its workers."""

    def __init__(self, workdir, https_port, http_port, socket_path):
        self.workdir, self.port, self.http_port = workdir, https_port, http_port
        # nginx's workers run as nobody when the master is root: they must reach the socket and temp dirs.
        os.chmod(workdir, 0o755)
        site = workdir / "fangang.conf"
        site.write_text(render_site(https_port, http_port, socket_path, workdir))
        self.conf = workdir / "nginx.conf"
        self.conf.write_text(main_conf(workdir, site))
        check = subprocess.run([NGINX, "-t", "-p", str(workdir), "-c", str(self.conf), "-e", str(workdir / "nginx-t.log")],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise SystemExit(f"nginx -t refused the configuration:\n{check.stderr}")
        self.log = open(workdir / "nginx-stderr.log", "w")
        self.process = subprocess.Popen(
            [NGINX, "-p", str(workdir), "-c", str(self.conf), "-e", str(workdir / "nginx-main-error.log"),
             "-g", "daemon off;"], stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout=20):
        """Wait until nginx accepts connections on its port."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"nginx exited with {self.process.returncode}; see {self.workdir}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"nginx not listening after {timeout} s; see {self.workdir}")

    def worker_pids(self):
        """The workers of the nginx we started (its children)."""
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def stop(self):
        """QUIT (graceful), then TERM, then KILL the master we started."""
        _stop(self.process, signal.SIGQUIT)
        self.log.close()


class Gunicorn:
    """gunicorn with the repository's gunicorn.conf.py on a unix socket, as deploy/systemd/fangang.socket gives it."""

    def __init__(self, env, workdir, socket_path, workers):
        self.socket_path, self.workdir = socket_path, workdir
        self.log = open(workdir / "gunicorn.log", "w")
        env = {**env, "WEB_CONCURRENCY": str(workers), "GUNICORN_THREADS": "1"}
        self.process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "gunicorn.conf.py", "--bind", f"unix:{socket_path}",
             "wsgi:app"], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout=60):
        """Wait until /healthz answers 200 on the socket."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}; see {self.workdir / 'gunicorn.log'}")
            try:
                conn = UnixHTTPConnection(str(self.socket_path))
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn not ready after {timeout} s; see {self.workdir / 'gunicorn.log'}")

    def worker_pids(self):
        """The workers of the gunicorn we started (its children)."""
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def stop(self):
        """TERM (graceful), then KILL the master we started."""
        _stop(self.process, signal.SIGTERM)
        self.log.close()


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a unix socket (gunicorn's, to check it directly)."""

    def __init__(self, path, timeout=5):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        """Connect to the socket file instead of a TCP address."""
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def _stop(process, first_signal):
    if process.poll() is not None:
        return
    for sig, wait in ((first_signal, 10), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            if sig == signal.SIGKILL:
                os.killpg(process.pid, sig)  # its own session: the master we started and its workers only
            else:
                os.kill(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def shed_by(access_log, offset):
    """503s in nginx's access log from `offset` on, by who refused (nginx's limits, max_conns, the app):
    {who: (count, slowest $request_time in seconds)}, nginx's own view of how fast each refusal went out."""
    with open(access_log, "rb") as handle:
        handle.seek(offset)
        lines = handle.read().decode("latin-1").splitlines()
    shed = {"nginx limit_req/limit_conn": [0, 0.0], "nginx max_conns": [0, 0.0], "app queue budget": [0, 0.0]}
    for line in lines:
        fields = line.split()
        at = next((i for i, field in enumerate(fields) if field.startswith("up=")), None)
        if at is None or fields[at - 3] != "503":
            continue
        who = {"-": "nginx limit_req/limit_conn", "502": "nginx max_conns"}.get(fields[at][3:], "app queue budget")
        shed[who][0] += 1
        shed[who][1] = max(shed[who][1], float(fields[at - 1].rstrip("s")))
    return {who: tuple(values) for who, values in shed.items()}


def served_seconds(access_log, offset):
    """$request_time of every 2xx in nginx's access log from `offset` on (nginx's view of admitted requests)."""
    with open(access_log, "rb") as handle:
        handle.seek(offset)
        lines = handle.read().decode("latin-1").splitlines()
    times = []
    for line in lines:
        fields = line.split()
        at = next((i for i, field in enumerate(fields) if field.startswith("up=")), None)
        if at is not None and fields[at - 3].startswith("2"):
            times.append(float(fields[at - 1].rstrip("s")))
    return times


class CpuMeter:
    """Cores used during a phase by gunicorn, nginx, MariaDB, this client, and everything else."""

    def __init__(self, gunicorn, nginx):
        self.gunicorn, self.nginx = gunicorn, nginx

    def _sample(self):
        pids = {"gunicorn": [self.gunicorn.process.pid, *self.gunicorn.worker_pids()],
                "nginx": [self.nginx.process.pid, *self.nginx.worker_pids()]}
        busy, stolen = _cpu_seconds()
        sample = {name: sum(_stat_seconds(pid)[1] for pid in group) for name, group in pids.items()}
        sample.update(busy=busy, stolen=stolen, mariadb=mariadb_seconds(), client=_own_seconds())
        return sample

    def __enter__(self):
        self.started, self.before = time.perf_counter(), self._sample()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.started
        after = self._sample()
        self.cores = {key: max(0.0, after[key] - self.before[key]) / wall for key in after}
        ours = sum(self.cores[key] for key in ("gunicorn", "nginx", "mariadb", "client"))
        self.cores["others"] = max(0.0, self.cores.pop("busy") - ours) + self.cores.pop("stolen")
        return False

    def text(self):
        """One line: cores per process group."""
        return "CPU (cores): " + ", ".join(f"{name} {value:.2f}" for name, value in self.cores.items())
