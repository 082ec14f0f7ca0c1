"""Redis under Sentinel on loopback: a primary, one replica and three sentinels (master name "fangang").

    from deploy.cluster.sentinel import SentinelSet
    redis = SentinelSet(workdir, offset=0)   # primary 6391, replica 6392, sentinels 26391..26393
    redis.start()                            # returns once the replica is in sync and the sentinels agree
    redis.env()                              # {"REDIS_SENTINELS": "127.0.0.1:26391,...", ...} for the app
    redis.kill_primary(); redis.wait_failover(old)   # SIGKILL, then the replica is promoted
    redis.restart_old()                      # the killed node comes back as a replica of the new primary
    redis.stop()

Every process is started and signalled by its own PID, with its config, log and pid file under
`workdir`; nothing here touches the machine's Redis on 6379. The config files are written from
redis.conf and sentinel.conf beside this module (the DBA's templates). Imports the stdlib and redis only.
"""
import os
import signal
import string
import subprocess
import time
from pathlib import Path

import redis

HERE = Path(__file__).resolve().parent
MASTER = "fangang"
HOST = "127.0.0.1"
DOWN_AFTER_MS = 2000
FAILOVER_TIMEOUT_MS = 10000


def _binary(name):
    for folder in os.environ.get("PATH", "").split(os.pathsep) + ["/usr/bin", "/usr/sbin", "/usr/local/bin"]:
        candidate = Path(folder, name)
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise FileNotFoundError(f"{name} is not installed")


def _wait(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except redis.RedisError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} not reached after {timeout} s")


class Server:
    """One redis-server (data node or sentinel) started from a filled-in template, by PID."""

    def __init__(self, name, port, workdir, template, sentinel=False):
        self.name, self.port, self.sentinel = name, port, sentinel
        self.dir = Path(workdir) / name
        self.template = template
        self.process = None

    @property
    def address(self):
        """(host, port)."""
        return HOST, self.port

    def write_config(self, **values):
        """Fill the template into <dir>/<name>.conf (the server may rewrite it later)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        text = string.Template((HERE / self.template).read_text()).substitute(
            port=self.port, host=HOST, dir=self.dir, **values)
        (self.dir / f"{self.name}.conf").write_text(text)

    def start(self):
        """Start it from its config file."""
        command = [_binary("redis-server"), str(self.dir / f"{self.name}.conf")]
        if self.sentinel:
            command.append("--sentinel")
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)

    def client(self, password=None, timeout=0.5):
        """A direct client (the sentinels have no password)."""
        return redis.Redis(HOST, self.port, password=None if self.sentinel else password, decode_responses=True,
                           socket_timeout=timeout, socket_connect_timeout=timeout, retry=None)

    def running(self):
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    def kill(self):
        """SIGKILL by PID, as in a crash."""
        if self.running():
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def pause(self):
        """SIGSTOP: the kernel still accepts connections, nothing answers."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        """SIGCONT after pause()."""
        self.process.send_signal(signal.SIGCONT)

    def stop(self):
        """SIGTERM (after SIGCONT), SIGKILL if it lingers."""
        if not self.running():
            return
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class SentinelSet:
    """A Redis primary (6391+offset), its replica (6392+offset) and sentinels 26391..26393+offset."""

    def __init__(self, workdir, offset=0, password=None, maxmemory="256mb"):
        self.workdir = Path(workdir)
        self.password = password
        self.maxmemory = maxmemory
        self.nodes = [Server("redis-a", 6391 + offset, workdir, "redis.conf"),
                      Server("redis-b", 6392 + offset, workdir, "redis.conf")]
        self.sentinel_servers = [Server(f"sentinel-{n}", 26391 + n + offset, workdir, "sentinel.conf", sentinel=True)
                                 for n in range(3)]
        self.killed = None  # the node kill_primary() killed, for restart_old()

    @property
    def sentinels(self):
        """The sentinels as "host:port" strings."""
        return [f"{HOST}:{server.port}" for server in self.sentinel_servers]

    def env(self):
        """The environment variables that point the app at this set (REDIS_URL only for the password)."""
        env = {"REDIS_SENTINELS": ",".join(self.sentinels), "REDIS_SENTINEL_MASTER": MASTER}
        if self.password:
            env["REDIS_URL"] = f"redis://:{self.password}@sentinel/0"
        return env

    def start(self):
        """Start the two nodes and three sentinels; return once the replica is in sync and the sentinels agree."""
        primary, replica = self.nodes
        self._start_node(primary, None)
        self._start_node(replica, primary)
        _wait(lambda: self._in_sync(primary), 20, "the replica in sync")
        for server in self.sentinel_servers:
            auth = f"sentinel auth-pass {MASTER} {self.password}" if self.password else ""
            server.write_config(master=MASTER, primary_host=HOST, primary_port=primary.port,
                                down_after_ms=DOWN_AFTER_MS, failover_timeout_ms=FAILOVER_TIMEOUT_MS, auth=auth)
            server.start()
        _wait(self._sentinels_agree, 30, "three sentinels that know the primary, its replica and each other")

    def _start_node(self, node, primary):
        auth = f"requirepass {self.password}\nmasterauth {self.password}" if self.password else ""
        replicaof = f"replicaof {primary.address[0]} {primary.address[1]}" if primary else ""
        node.write_config(maxmemory=self.maxmemory, auth=auth, replicaof=replicaof)
        node.start()
        _wait(lambda: node.client(self.password).ping(), 20, f"{node.name} answering")

    def _in_sync(self, primary):
        info = primary.client(self.password).info("replication")
        return any(isinstance(value, dict) and value.get("state") == "online"
                   for key, value in info.items() if key.startswith("slave"))

    def _sentinels_agree(self):
        wanted = self.primary()
        for server in self.sentinel_servers:
            state = server.client().sentinel_master(MASTER)
            if (state["ip"], state["port"]) != wanted or state["num-other-sentinels"] < 2 or state["num-slaves"] < 1:
                return False
        return True

    def settled(self):
        """Whether every sentinel names the same primary, sees the other two and the other node as its replica,
        and the primary has that replica in sync: what a further failover needs. (The sentinels' own view of
        the replica's link lags by up to their 10 s INFO period; the primary's is current.)"""
        wanted = self.primary()
        others = [node.address for node in self.nodes if node.address != wanted and node.running()]
        for server in self.sentinel_servers:
            client = server.client()
            state = client.sentinel_master(MASTER)
            if (state["ip"], state["port"]) != wanted or state["num-other-sentinels"] < 2:
                return False
            replicas = {(r["ip"], r["port"]): r for r in client.sentinel_slaves(MASTER)}
            for address in others:
                replica = replicas.get(address)
                if not replica or replica["flags"] != "slave":
                    return False
        return not others or self._in_sync(self.node_at(wanted))

    def wait_settled(self, timeout=30):
        """Wait until settled() (after start, a failover or restart_old)."""
        _wait(self.settled, timeout, "sentinels settled on one primary and its replica")

    def primary(self):
        """(host, port) of the primary as the sentinels say (the first that answers)."""
        for server in self.sentinel_servers:
            try:
                host, port = server.client().sentinel_get_master_addr_by_name(MASTER)
                return host, int(port)
            except (redis.RedisError, TypeError):
                continue
        raise redis.ConnectionError("no sentinel answers")

    def node_at(self, address):
        """The Server listening on (host, port)."""
        return next(node for node in self.nodes if node.address == tuple(address))

    def kill_primary(self):
        """SIGKILL the current primary; return its (host, port)."""
        node = self.node_at(self.primary())
        node.kill()
        self.killed = node
        return node.address

    def failover(self):
        """Ask the sentinels for a failover now (SENTINEL FAILOVER: no agreement needed, the old primary is up)."""
        self.sentinel_servers[0].client().sentinel_failover(MASTER)

    def wait_failover(self, old, timeout=30):
        """Wait until every sentinel names a primary other than `old` and that node says it is the master."""
        def moved():
            addresses = {tuple(server.client().sentinel_get_master_addr_by_name(MASTER))
                         for server in self.sentinel_servers if server.running()}
            addresses = {(host, int(port)) for host, port in addresses}
            if len(addresses) != 1 or tuple(old) in addresses:
                return False
            (address,) = addresses
            return self.node_at(address).client(self.password).info("replication")["role"] == "master"
        _wait(moved, timeout, f"a failover away from {old}")
        return self.primary()

    def restart_old(self, timeout=30):
        """Bring the killed node back as a replica of the current primary; wait until it is in sync."""
        node = self.killed
        primary = self.node_at(self.primary())
        self._start_node(node, primary)
        _wait(lambda: self._in_sync(primary), timeout, f"{node.name} in sync as a replica")
        self.killed = None
        return node.address

    def stop(self):
        """Stop every process this set started (sentinels first, so no failover starts meanwhile)."""
        for server in self.sentinel_servers + self.nodes:
            server.stop()


def main(argv=None):
    """`python -m deploy.cluster.sentinel up|demo DIR [OFFSET]`: run a set in the foreground until Ctrl-C."""
    import sys
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 1 or args[0] != "up":
        print("usage: python -m deploy.cluster.sentinel up WORKDIR [OFFSET]", file=sys.stderr)
        return 2
    workdir = args[1] if len(args) > 1 else "/tmp/fangang-sentinel"
    offset = int(args[2]) if len(args) > 2 else 0
    group = SentinelSet(workdir, offset)
    group.start()
    print("primary", group.primary(), "env", group.env(), flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        group.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
