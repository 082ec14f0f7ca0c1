"""Start or stop the whole storage cluster on loopback ports: `make cluster-up` / `make cluster-down`.

    python deploy/cluster/cluster.py up [--dir /tmp/fangang-cluster] [--offset 0]
    python deploy/cluster/cluster.py status
    python deploy/cluster/cluster.py down

`up` starts three MariaDB Galera nodes with their clustercheck probes and HAProxy (galera.py), and a
Redis primary, a replica and three sentinels (sentinel.py); it creates the database `fangang`, writes
what the app needs into <dir>/cluster.env and leaves every process running in the background. `down`
stops every process whose command line names <dir> (the cluster's own, nothing else: the machine's
MariaDB on 3306 and Redis on 6379 are never touched) and removes <dir>, data included.
"""
import argparse
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `deploy.cluster` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from deploy.cluster.galera import GaleraCluster, missing  # noqa: E402

DEFAULT_DIR = os.environ.get("CLUSTER_DIR", "/tmp/fangang-cluster")
DATABASE = "fangang"


def up(directory, offset):
    """Start everything; write <dir>/cluster.env. Refuses if <dir> already holds a cluster."""
    from deploy.cluster.sentinel import SentinelSet

    directory = Path(directory)
    if (directory / "cluster.json").exists():
        raise SystemExit(f"{directory} already holds a cluster: `make cluster-down` first")
    lacking = missing()
    if shutil.which("redis-server") is None:
        lacking.append("redis-server")
    if lacking:
        raise SystemExit(f"missing: {', '.join(lacking)} (Debian: apt-get install -y mariadb-server galera-4 "
                         "haproxy rsync redis-server redis-sentinel)")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cluster.json").write_text(json.dumps({"offset": offset, "started": time.time()}))
    started = time.monotonic()
    galera = GaleraCluster(directory / "galera", offset=offset)
    redis = SentinelSet(directory / "redis", offset=offset)
    try:
        galera.start()
        redis.start()
        with galera.node(0).connect() as connection, connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS {DATABASE} "
                           "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    except BaseException:
        down(directory)
        raise
    env = {**galera.env(DATABASE), **redis.env()}
    lines = [f"{key}={value}" for key, value in env.items()]
    (directory / "cluster.env").write_text("\n".join(lines) + "\n")
    os.chmod(directory / "cluster.env", 0o600)
    print(f"cluster up in {time.monotonic() - started:.0f} s under {directory}:")
    print(f"  Galera nodes on 127.0.0.1:{galera.node(0).port}-{galera.node(2).port}, HAProxy writer "
          f"{galera.write_port}, reader {galera.read_port}; Redis sentinels {','.join(redis.sentinels)}")
    print(f"  the app's settings are in {directory / 'cluster.env'}:")
    for line in lines:
        print("    " + line)
    print(f"  to serve the app on it: set -a; . {directory / 'cluster.env'}; set +a; make run")


def status(directory):
    """Print each node's state, HAProxy's view and the Redis primary."""
    directory = Path(directory)
    settings = _settings(directory)
    galera = GaleraCluster(directory / "galera", offset=settings["offset"])
    for node in galera.nodes:
        state = node.status()
        print(f"{node.name} :{node.port} {state.get('wsrep_local_state_comment', 'down')} "
              f"size={state.get('wsrep_cluster_size', '-')} {state.get('wsrep_cluster_status', '')}")
    writer = galera.writer_node()
    print(f"HAProxy writer :{galera.write_port} -> {writer.name if writer else 'nowhere'}")
    try:
        from deploy.cluster.sentinel import SentinelSet
        redis = SentinelSet(directory / "redis", offset=settings["offset"])
        print(f"Redis primary (as the sentinels say): {redis.primary()}")
    except Exception as error:  # noqa: BLE001 (a status line, whatever went wrong)
        print(f"Redis: {error}")


def down(directory):
    """Stop every process started under <dir>, then remove <dir>."""
    directory = Path(directory).resolve()
    if not directory.exists():
        print(f"nothing under {directory}")
        return
    victims = _processes_naming(directory)
    for pid in victims:
        _signal(pid, signal.SIGCONT)
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(_alive(pid) for pid in victims):
        time.sleep(0.2)
    for pid in victims:
        if _alive(pid):
            _signal(pid, signal.SIGKILL)
    shutil.rmtree(directory, ignore_errors=True)
    print(f"stopped {len(victims)} processes; removed {directory}")


def _settings(directory):
    try:
        return json.loads((directory / "cluster.json").read_text())
    except OSError:
        raise SystemExit(f"no cluster under {directory}: `make cluster-up` first") from None


DAEMONS = ("mariadbd", "haproxy", "redis-server", "redis-sentinel", "rsync")


def _processes_naming(directory):
    """PIDs of the cluster's daemons under `directory`: mariadbd, haproxy, rsync and clustercheck name a
    path inside it on their command line; redis-server rewrites its command line to its address, but
    works in its `dir`, which is inside it. Nothing else is picked, not even a shell that names <dir>."""
    needle = str(directory).encode() + b"/"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            cwd = os.readlink(entry / "cwd").encode() + b"/"
        except OSError:
            continue
        ours = comm in DAEMONS or (comm.startswith("python") and b"clustercheck.py" in cmdline)
        if ours and (needle in cmdline or cwd.startswith(needle)):
            found.append(int(entry.name))
    return found


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _signal(pid, number):
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass


def main(argv=None):
    parser = argparse.ArgumentParser(description="The storage cluster on loopback ports (Galera + HAProxy + Sentinel).")
    parser.add_argument("command", choices=("up", "down", "status"))
    parser.add_argument("--dir", default=DEFAULT_DIR, help=f"where its data and logs go (default {DEFAULT_DIR})")
    parser.add_argument("--offset", type=int, default=int(os.environ.get("CLUSTER_OFFSET", "0")),
                        help="added to every port, so two clusters can run side by side")
    args = parser.parse_args(argv)
    if args.command == "up":
        up(args.dir, args.offset)
    elif args.command == "status":
        status(args.dir)
    else:
        down(args.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
