"""A 3-node MariaDB Galera cluster behind HAProxy, on loopback ports, for tests and for trying it out.

Each node is Debian's `mariadbd` with `galera-4`, started from deploy/cluster/galera.cnf with its own
datadir, ports and log, as the `mysql` user (rsync state transfer needs the datadirs owned by the
server's user). Beside each node a clustercheck (deploy/cluster/clustercheck.py) tells HAProxy whether
the node is fit; HAProxy (deploy/cluster/haproxy.cfg) offers a writer port (one node, the others backup)
and a read port (the other nodes). Every process is started and signalled by its PID: the machine's
own MariaDB (3306) is never touched.

Ports, for offset 0 (each added to `offset`, so clusters of different offsets coexist):
    nodes' client ports 3311-3313, group 4571-4573, IST 4581-4583, SST 4591-4593,
    clustercheck 9201-9203, HAProxy writer 3320, reader 3321.

    cluster = GaleraCluster(Path("/tmp/g"), offset=100)
    cluster.start()                      # bootstraps node 1, joins 2 and 3 (about a minute)
    cluster.writer_url("fangang")        # the app's DATABASE_URL, through HAProxy
    cluster.writer_node().kill()         # SIGKILL; .start() brings it back (IST or SST)
    cluster.stop()
"""
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pymysql

HERE = Path(__file__).resolve().parent
PROVIDER = "/usr/lib/galera/libgalera_smm.so"
APP_USER = "fangang"
CHECK_USER = "clustercheck"
SIZE = 3


def _which(name):
    found = shutil.which(name) or str(Path("/usr/sbin", name))
    return found


def missing():
    """What this machine lacks to run a cluster (Debian packages: mariadb-server, galera-4, haproxy, rsync)."""
    lacking = [name for name in ("mariadbd", "mariadb-install-db", "haproxy", "rsync")
               if shutil.which(name) is None and not Path("/usr/sbin", name).exists()]
    if not Path(PROVIDER).exists():
        lacking.append("galera-4")
    try:
        pwd.getpwnam("mysql")
    except KeyError:
        lacking.append("the mysql user")
    return lacking


def wait_until(check, timeout, what):
    """Call `check` until it returns true; raise after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what}: not after {timeout} s")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (our child, killed, not yet reaped) is not alive
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Daemon:
    """A process of the cluster: its PID kept in a file, so a later `cluster.py down` finds it."""

    def __init__(self, pidfile):
        self.pidfile = Path(pidfile)
        self.process = None

    @property
    def pid(self):
        if self.process is not None:
            return self.process.pid
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def running(self):
        pid = self.pid
        if pid is None:
            return False
        if self.process is not None:
            return self.process.poll() is None and _alive(pid)
        return _alive(pid)

    def spawn(self, argv, log, env=None):
        with open(log, "ab") as out:
            self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True, env=env)
        self.pidfile.write_text(str(self.process.pid))

    def signal(self, number):
        pid = self.pid
        if pid is not None and self.running():
            os.kill(pid, number)

    def kill(self):
        """SIGKILL, as in a crash; wait until it is gone."""
        self.signal(signal.SIGKILL)
        self._reap(10)

    def terminate(self, timeout=60):
        """SIGCONT (if paused), SIGTERM, and SIGKILL after `timeout` s."""
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        if not self._reap(timeout):
            self.kill()

    def _reap(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return True
            if not self.running():
                return True
            time.sleep(0.1)
        return False


class Node:
    """One Galera node: mariadbd and its clustercheck."""

    def __init__(self, cluster, index):
        self.cluster = cluster
        self.index = index  # 0, 1, 2
        self.name = f"n{index + 1}"
        offset = cluster.offset
        self.port = 3311 + offset + index
        self.group_port = 4571 + offset + index
        self.ist_port = 4581 + offset + index
        self.sst_port = 4591 + offset + index
        self.check_port = 9201 + offset + index
        self.dir = cluster.dir / self.name
        self.datadir = self.dir / "data"
        self.config = self.dir / "my.cnf"
        self.error_log = self.dir / "error.log"
        self.server = Daemon(self.dir / "mariadbd.pid.own")
        self.check = Daemon(self.dir / "clustercheck.pid")

    def prepare(self):
        """Write its config and system tables (the datadir owned by mysql)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.config.write_text(self.render_config(), encoding="utf-8")
        subprocess.run([_which("mariadb-install-db"), "--no-defaults", f"--datadir={self.datadir}", "--user=mysql",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _chown_mysql(self.dir)

    def render_config(self):
        """deploy/cluster/galera.cnf filled in for this node."""
        peers = ",".join(f"127.0.0.1:{node.group_port}" for node in self.cluster.nodes)
        template = (HERE / "galera.cnf").read_text(encoding="utf-8")
        return template.format(
            datadir=self.datadir, socket=self.dir / "mysql.sock", pidfile=self.dir / "mariadbd.pid",
            errorlog=self.error_log, port=self.port, peers=peers, name=self.name, group_port=self.group_port,
            sst_port=self.sst_port, ist_port=self.ist_port)

    def start(self, bootstrap=False, timeout=180):
        """Start mariadbd (a new cluster when `bootstrap`, else join: IST or SST) and wait until Synced."""
        argv = [_which("mariadbd"), f"--defaults-file={self.config}"]
        if bootstrap:
            argv.append("--wsrep-new-cluster")
        else:
            self.recover_position()
        self.server.spawn(argv, self.dir / "mariadbd.out")
        self.wait_synced(timeout)
        if not self.check.running():
            self.start_check()

    def start_check(self):
        """Start the clustercheck HAProxy asks."""
        self.check.spawn([sys.executable, str(HERE / "clustercheck.py"), "--listen", f"127.0.0.1:{self.check_port}",
                          "--port", str(self.port), "--user", CHECK_USER,
                          "--password-file", str(self.cluster.dir / "clustercheck.password")],
                         self.dir / "clustercheck.log")

    def recover_position(self):
        """After a crash, what Debian's mariadb.service does first (galera_recovery): read the last committed
        write set from InnoDB (`mariadbd --wsrep-recover`) into grastate.dat, where SIGKILL left seqno -1.
        With it the node asks the others only for what it missed (IST); without it, for a full copy (SST).
        Returns the recovered seqno, or None when there was nothing to recover."""
        state = self.datadir / "grastate.dat"
        if not state.exists() or not re.search(r"^seqno:\s*-1\s*$", state.read_text(), flags=re.MULTILINE):
            return None
        log = self.dir / "wsrep-recover.log"
        subprocess.run([_which("mariadbd"), f"--defaults-file={self.config}", "--wsrep-recover",
                        f"--log-error={log}", f"--pid-file={self.dir / 'recover.pid'}"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False)
        try:
            found = re.search(r"WSREP: Recovered position: ([0-9a-f-]{36}):(-?\d+)", log.read_text(errors="replace"))
        except OSError:
            return None
        if not found or found.group(1) not in state.read_text():
            return None
        state.write_text(re.sub(r"^seqno:.*$", f"seqno:   {found.group(2)}", state.read_text(), flags=re.MULTILINE))
        return int(found.group(2))

    def wait_synced(self, timeout=180):
        def synced():
            if not self.server.running():
                raise RuntimeError(f"{self.name}'s mariadbd exited; see {self.error_log}")
            status = self.status()
            return status.get("wsrep_local_state") == "4" and status.get("wsrep_ready") == "ON"
        wait_until(synced, timeout, f"{self.name} Synced")

    def connect(self, database=None, timeout=2.0, autocommit=True):
        """A direct connection to this node as root (not through HAProxy)."""
        return pymysql.connect(host="127.0.0.1", port=self.port, user="root", database=database,
                               connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout,
                               autocommit=autocommit)

    def status(self):
        """Its wsrep_* status variables ({} when it does not answer)."""
        try:
            with self.connect(timeout=1.0) as connection, connection.cursor() as cursor:
                cursor.execute("SHOW GLOBAL STATUS LIKE 'wsrep%'")
                return dict(cursor.fetchall())
        except pymysql.MySQLError:
            return {}

    def url(self, database, user=None):
        return self.cluster._url(self.port, database, user)

    def kill(self):
        """SIGKILL mariadbd, as in a crash (its clustercheck stays and reports it down)."""
        self.server.kill()

    def pause(self):
        """SIGSTOP mariadbd: the node hangs (its sockets stay open, nothing answers)."""
        self.server.signal(signal.SIGSTOP)

    def resume(self):
        """SIGCONT after `pause`."""
        self.server.signal(signal.SIGCONT)

    def stop(self):
        self.server.terminate()
        self.check.terminate(5)

    def sst_or_ist(self):
        """How it last caught up, read from its error log: 'IST', 'SST' or None.

        The joiner's rsync script says which in its last line ("rsync IST completed on joiner" or
        "rsync SST completed on joiner"); other lines mislead (an SST is followed by an IST of its tail)."""
        try:
            text = self.error_log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        found = re.findall(r"rsync (IST|SST) completed on joiner", text)
        return found[-1] if found else None


class GaleraCluster:
    """Three Galera nodes, their clustercheck probes and HAProxy, under `directory`."""

    def __init__(self, directory, offset=0):
        self.dir = Path(directory)
        self.offset = offset
        self.nodes = [Node(self, index) for index in range(SIZE)]
        self.write_port = 3320 + offset
        self.read_port = 3321 + offset
        self.haproxy = Daemon(self.dir / "haproxy.pid.own")
        self._app_password = None

    # -- addresses --------------------------------------------------------------------------------
    @property
    def app_password(self):
        if self._app_password is None:
            self._app_password = (self.dir / "app.password").read_text().strip()
        return self._app_password

    def _url(self, port, database, user=None):
        user = user or APP_USER
        credentials = "root" if user == "root" else f"{user}:{self.app_password}"
        return f"mysql+pymysql://{credentials}@127.0.0.1:{port}/{database}?charset=utf8mb4"

    def writer_url(self, database, user=None):
        """DATABASE_URL through HAProxy's writer port."""
        return self._url(self.write_port, database, user)

    def read_url(self, database, user=None):
        """DATABASE_READ_URL through HAProxy's read port."""
        return self._url(self.read_port, database, user)

    def node(self, index):
        return self.nodes[index]

    def node_url(self, index, database, user=None):
        """A URL straight to one node, bypassing HAProxy."""
        return self.nodes[index].url(database, user)

    # -- life -------------------------------------------------------------------------------------
    def start(self):
        """Bootstrap node 1, join nodes 2 and 3 one after another, create the users, start HAProxy."""
        problems = missing()
        if problems:
            raise RuntimeError(f"cannot start a Galera cluster: missing {', '.join(problems)}")
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)
        _make_traversable(self.dir)  # mysql must reach its datadir
        (self.dir / "app.password").write_text(secrets.token_urlsafe(18))
        (self.dir / "clustercheck.password").write_text(secrets.token_urlsafe(18))
        os.chmod(self.dir / "app.password", 0o600)
        os.chmod(self.dir / "clustercheck.password", 0o600)
        for node in self.nodes:
            node.prepare()
        first = self.nodes[0]
        first.start(bootstrap=True)
        self._create_users(first)
        for node in self.nodes[1:]:
            node.start()
        self.wait_size(SIZE)
        self.start_haproxy()
        return self

    def _create_users(self, node):
        """The app's user (all rights on its databases) and clustercheck's (no rights: status only)."""
        check_password = (self.dir / "clustercheck.password").read_text().strip()
        with node.connect() as connection, connection.cursor() as cursor:
            for host in ("127.0.0.1", "localhost"):
                cursor.execute(f"CREATE USER '{APP_USER}'@'{host}' IDENTIFIED BY %s", (self.app_password,))
                cursor.execute(f"GRANT ALL PRIVILEGES ON *.* TO '{APP_USER}'@'{host}'")
                cursor.execute(f"CREATE USER '{CHECK_USER}'@'{host}' IDENTIFIED BY %s", (check_password,))

    def render_haproxy(self):
        """deploy/cluster/haproxy.cfg filled in for this cluster."""
        template = (HERE / "haproxy.cfg").read_text(encoding="utf-8")
        names = {f"n{i + 1}": node.name for i, node in enumerate(self.nodes)}
        ports = {f"port{i + 1}": node.port for i, node in enumerate(self.nodes)}
        checks = {f"check{i + 1}": node.check_port for i, node in enumerate(self.nodes)}
        return template.format(pidfile=self.dir / "haproxy.pid", stats_socket=self.dir / "haproxy.sock",
                               write_port=self.write_port, read_port=self.read_port, **names, **ports, **checks)

    def start_haproxy(self):
        config = self.dir / "haproxy.cfg"
        config.write_text(self.render_haproxy(), encoding="utf-8")
        subprocess.run([_which("haproxy"), "-c", "-q", "-f", str(config)], check=True)
        self.haproxy.spawn([_which("haproxy"), "-db", "-f", str(config)], self.dir / "haproxy.log")
        wait_until(lambda: self.writer_node() is not None, 30, "HAProxy's writer port")

    def stop(self):
        """Stop HAProxy, the probes and the nodes (the last node's state is kept in its datadir)."""
        self.haproxy.terminate(10)
        for node in reversed(self.nodes):
            node.stop()

    def wait_size(self, size, timeout=120, among=None):
        """Wait until the nodes in `among` (default: every running node) see a primary cluster of `size`."""
        def settled():
            nodes = among if among is not None else [node for node in self.nodes if node.server.running()]
            for node in nodes:
                status = node.status()
                if (status.get("wsrep_cluster_size") != str(size) or status.get("wsrep_local_state") != "4"
                        or status.get("wsrep_cluster_status") != "Primary"):
                    return False
            return True
        wait_until(settled, timeout, f"a cluster of {size}")

    def writer_node(self):
        """The node HAProxy's writer port leads to now (asked through it), or None if it leads nowhere."""
        try:
            connection = pymysql.connect(host="127.0.0.1", port=self.write_port, user=APP_USER,
                                         password=self.app_password, connect_timeout=2, read_timeout=2)
        except pymysql.MySQLError:
            return None
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT @@port")
                port = cursor.fetchone()[0]
        except pymysql.MySQLError:
            return None
        finally:
            connection.close()
        return next((node for node in self.nodes if node.port == port), None)

    def haproxy_servers(self):
        """{(listener, server): status} from HAProxy's stats socket, e.g. ('galera_write', 'n1'): 'UP'."""
        import socket
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(2)
            sock.connect(str(self.dir / "haproxy.sock"))
            sock.sendall(b"show stat\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        states = {}
        for line in data.decode().splitlines()[1:]:
            fields = line.split(",")
            if len(fields) > 17 and fields[1] not in ("FRONTEND", "BACKEND"):
                states[(fields[0], fields[1])] = fields[17]
        return states

    def env(self, database):
        """What the app needs to use this cluster."""
        return {"DATABASE_URL": self.writer_url(database), "DATABASE_READ_URL": self.read_url(database)}


def _chown_mysql(path):
    user = pwd.getpwnam("mysql")
    for root, dirs, files in os.walk(path):
        os.chown(root, user.pw_uid, user.pw_gid)
        for name in files:
            os.chown(os.path.join(root, name), user.pw_uid, user.pw_gid)


def _make_traversable(path):
    """Let the mysql user walk down to `path` (pytest's temporary directories are 0700)."""
    for parent in [path, *path.parents]:
        if parent == Path("/"):
            break
        mode = os.stat(parent).st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)
