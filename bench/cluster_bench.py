"""Check-in on a 3-node Galera cluster (through HAProxy's writer port) beside a single MariaDB, in the same run.

Run from the repository root:

    .venv/bin/python bench/cluster_bench.py [--duration 15] [--rounds 2] [--passengers 12000]

It starts, under a temporary directory and on loopback ports of offset 200 (never the machine's own
MariaDB), a Galera cluster (deploy/cluster/galera.py: three nodes, their clustercheck probes, HAProxy)
and one single mariadbd with a cluster node's settings and replication off (`SingleNode`). On each it
builds the database `fangang_bench` and the same data with bench/scan_bench.py's functions, then, for
each round, against each database in turn (ABBA order across rounds, so a machine that drifts
penalises neither), under the same gunicorn (4 sync workers, gunicorn.conf.py):

  1. GET /healthz with wrk (the yardstick: how fast this machine is in that minute);
  2. online boarding scans with wrk and bench/scan.lua (16 connections), and the verdicts stored;
  3. batch ingest: scan_bench's uploaders, 500 scans per upload.

Before the rounds, a commit probe times single-row durable INSERTs (one client; then 16 clients
at once) on each database, without the app: the price of one commit, which is what Galera adds to.
It prints each figure for both, the ratios cluster/single, where the CPU went (gunicorn, the
writer node, the other nodes, HAProxy, the load generator, other people's work), and the Galera
status that explains the ratio: write sets and bytes per scan, flow control, send and receive
queues, certification dependency distance, conflicts, replication latency.

Needs wrk, haproxy, galera-4 and rsync (Debian packages), Redis on 127.0.0.1:6379 (db 3 is flushed).
"""
import argparse
import base64
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import scan_bench as sb  # noqa: E402
from deploy.cluster import galera  # noqa: E402

OFFSET = 200  # ports of the bench's cluster and single server: see docs in deploy/cluster/galera.py
HOST = "127.0.0.1"
PROBE_TABLE = "bench_commit_probe"


class SingleNode:
    """One mariadbd with a Galera node's settings but no replication: the fair single server.

    Its config is deploy/cluster/galera.cnf without the wsrep_* lines, so the buffer pool, the durable
    commits (innodb_flush_log_at_trx_commit=1), binlog_format, the user it runs as and the disk are
    those of a cluster node: the figures differ by what Galera does, not by tuning.
    """

    def __init__(self, directory, port):
        self.dir = Path(directory)
        self.port = port
        self.datadir = self.dir / "data"
        self.error_log = self.dir / "error.log"
        self.server = galera.Daemon(self.dir / "mariadbd.pid.own")

    def config_text(self):
        """galera.cnf with its placeholders filled and replication left out."""
        template = (galera.HERE / "galera.cnf").read_text(encoding="utf-8")
        lines = [line for line in template.splitlines() if not line.lstrip().startswith("wsrep_")]
        return "\n".join(lines).format(datadir=self.datadir, socket=self.dir / "mysql.sock",
                                       pidfile=self.dir / "mariadbd.pid", errorlog=self.error_log,
                                       port=self.port) + "\n"

    def start(self):
        """Install the system tables (owned by mysql, as a node's) and start; wait until it answers."""
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)
        galera._make_traversable(self.dir)
        config = self.dir / "my.cnf"
        config.write_text(self.config_text(), encoding="utf-8")
        subprocess.run([galera._which("mariadb-install-db"), "--no-defaults", f"--datadir={self.datadir}",
                        "--user=mysql", "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        galera._chown_mysql(self.dir)
        self.server.spawn([galera._which("mariadbd"), f"--defaults-file={config}"], self.dir / "mariadbd.out")

        def answers():
            if not self.server.running():
                raise RuntimeError(f"the single mariadbd exited; see {self.error_log}")
            try:
                sb.mariadb(host=HOST, port=self.port).close()
                return True
            except Exception:  # noqa: BLE001 - not up yet
                return False
        galera.wait_until(answers, 60, "the single mariadbd")

    def stop(self):
        self.server.terminate()


class Target:
    """One database the app is benchmarked on: where it connects and which processes are its own."""

    def __init__(self, name, port, url, groups):
        self.name = name
        self.port = port  # the app's port: the single server's, or HAProxy's writer port (root reaches both)
        self.url = url  # the app's DATABASE_URL
        self.groups = groups  # () -> {label: [pid, ...]}: the database's processes, grouped for the CPU figures


# --- CPU ---------------------------------------------------------------------------------------


class Meter:
    """Cores used during a phase by gunicorn, each group of the database's processes, this process with
    wrk, and everything else on the machine (other people's work), plus time stolen by the hypervisor."""

    def __init__(self, server, groups):
        self.server, self.groups = server, groups

    def _sample(self):
        busy, stolen = sb._cpu_seconds()
        values = {"gunicorn": sum(sb._stat_seconds(pid)[1] for pid in [self.server.process.pid,
                                                                        *self.server.worker_pids()])}
        for label, pids in self.groups().items():
            values[label] = sum(sb._stat_seconds(pid)[1] for pid in pids)
        values["client"] = sb._own_seconds()
        return busy, stolen, values

    def __enter__(self):
        self.started = time.perf_counter()
        self.before = self._sample()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.started
        busy, stolen, values = self._sample()
        self.cores = {key: max(0.0, values[key] - self.before[2].get(key, 0.0)) / wall for key in values}
        self.cores["other"] = max(0.0, (busy - self.before[0]) / wall - sum(self.cores.values()))
        self.cores["stolen"] = max(0.0, stolen - self.before[1]) / wall
        return False

    def text(self):
        return "CPU in cores: " + ", ".join(f"{name} {value:.2f}" for name, value in self.cores.items())


# --- preparing ------------------------------------------------------------------------------------


def _prepare(env, port, labels, args, workdir, flush_redis):
    """In a child process: rebuild the database at `port` and make the passengers of `labels`."""
    sb.recreate_database(env, HOST, port, flush_redis=flush_redis)
    return sb.prepare(env, labels, args, workdir)


def _default_sigterm():
    """The pool's child dies quietly when the pool ends it (the parent's SIGTERM handler is not for it)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def prepare_in_child(env, port, labels, args, workdir, flush_redis):
    """Each database's data is made by the app in a process of its own: two apps with two DATABASE_URLs
    never share this one's module state."""
    with multiprocessing.get_context("fork").Pool(1, initializer=_default_sigterm) as pool:
        return pool.apply(_prepare, (env, port, labels, args, workdir, flush_redis))


# --- the commit probe -----------------------------------------------------------------------------


def commit_probe(port, seconds, clients):
    """Single-row INSERTs, each its own durable commit, from `clients` threads for `seconds`:
    commits/s and per-commit latency (the database alone; no app)."""
    with sb.mariadb(sb.DB_NAME, HOST, port) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {PROBE_TABLE} (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                    "client INT NOT NULL, at DATETIME(6) NOT NULL, note VARCHAR(64) NOT NULL)")
    latencies, lock = [], threading.Lock()
    deadline = time.monotonic() + seconds

    def client(number):
        mine = []
        with sb.mariadb(sb.DB_NAME, HOST, port) as conn, conn.cursor() as cur:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                cur.execute(f"INSERT INTO {PROBE_TABLE} (client, at, note) VALUES (%s, NOW(6), %s)",
                            (number, "commit probe"))
                mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {"commits_per_s": len(latencies) / wall, "p50_ms": 1000 * latencies[len(latencies) // 2],
            "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)], "commits": len(latencies)}


# --- Galera status -------------------------------------------------------------------------------

COUNTERS = ("wsrep_replicated", "wsrep_replicated_bytes", "wsrep_received", "wsrep_flow_control_paused_ns",
            "wsrep_flow_control_sent", "wsrep_flow_control_recv", "wsrep_local_cert_failures",
            "wsrep_local_bf_aborts", "wsrep_local_commits")


def galera_snapshot(cluster):
    """Every node's wsrep status now, by node name."""
    return {node.name: node.status() for node in cluster.nodes}


def galera_flush(cluster):
    """FLUSH STATUS on every node: the *_avg figures then average over the phase to come."""
    for node in cluster.nodes:
        with node.connect() as conn, conn.cursor() as cur:
            cur.execute("FLUSH STATUS")


def galera_figures(before, after, writer, wall, scans):
    """What Galera did during a phase: write sets, bytes, flow control, queues, conflicts, latency."""
    def delta(node, key):
        try:
            return float(after[node].get(key, 0)) - float(before[node].get(key, 0))
        except ValueError:
            return 0.0

    others = [name for name in after if name != writer]
    replicated = delta(writer, "wsrep_replicated")
    latency = after[writer].get("wsrep_evs_repl_latency", "")  # min/avg/max/stddev/samples, seconds
    parts = latency.split("/")
    return {
        "write_sets": replicated,
        "write_sets_per_scan": replicated / scans if scans else None,
        "bytes_per_write_set": delta(writer, "wsrep_replicated_bytes") / replicated if replicated else None,
        "fc_paused": delta(writer, "wsrep_flow_control_paused_ns") / 1e9 / wall if wall else None,
        "fc_sent_by_others": sum(delta(name, "wsrep_flow_control_sent") for name in others),
        "send_queue_avg": float(after[writer].get("wsrep_local_send_queue_avg", 0) or 0),
        "recv_queue_avg_max": max(float(after[name].get("wsrep_local_recv_queue_avg", 0) or 0) for name in others),
        "cert_deps_distance": float(after[writer].get("wsrep_cert_deps_distance", 0) or 0),
        "conflicts": sum(delta(name, "wsrep_local_cert_failures") + delta(name, "wsrep_local_bf_aborts")
                         for name in after),
        "repl_latency_avg_ms": float(parts[1]) * 1000 if len(parts) == 5 and parts[1] else None,
        "apply_window": max(float(after[name].get("wsrep_apply_window", 0) or 0) for name in others),
    }


def galera_text(figures):
    def fmt(value, pattern):
        return "-" if value is None else pattern.format(value)
    return (f"write sets {figures['write_sets']:.0f} ({fmt(figures['write_sets_per_scan'], '{:.3f}')} per scan, "
            f"{fmt(figures['bytes_per_write_set'], '{:.0f}')} B each); flow control paused "
            f"{fmt(figures['fc_paused'], '{:.1%}')} (FC_PAUSE sent by the others: {figures['fc_sent_by_others']:.0f}); "
            f"send queue avg {figures['send_queue_avg']:.2f}, recv queue avg (worst other) "
            f"{figures['recv_queue_avg_max']:.2f}; cert deps distance {figures['cert_deps_distance']:.1f}; "
            f"conflicts {figures['conflicts']:.0f}; replication latency avg "
            f"{fmt(figures['repl_latency_avg_ms'], '{:.2f}')} ms")


# --- one target, one round ------------------------------------------------------------------------


def run_target(args, target, data, label, env, workdir, cluster, used_ports):
    """/healthz, online scans and batch ingest against `target` with the data of `label`."""
    port = sb.free_port(used_ports)
    used_ports.add(port)
    print(f"\n[{label}] gunicorn {args.workers} sync workers on {HOST}:{port} → {target.name} "
          f"({HOST}:{target.port})", flush=True)
    server = sb.Gunicorn({**env, "DATABASE_URL": target.url}, args.workers, 1, port,
                         workdir / f"gunicorn-{label}.log")
    result = {"target": target.name}
    try:
        server.wait_ready()
        sb.run_wrk(args, server.base + "/healthz", 3)  # warm-up: imports, pools per worker
        sb.wait_for_quiet(args.wait_quiet)
        with Meter(server, target.groups) as cpu:
            result["healthz"] = sb.parse_wrk(sb.run_wrk(args, server.base + "/healthz", args.healthz_seconds))
        print(f"  healthz: {result['healthz']['rps']:.0f} req/s; {cpu.text()}")

        device = f"wrk-{label}"
        sb.wait_for_quiet(args.wait_quiet)
        before = galera_phase_start(cluster, target)
        with Meter(server, target.groups) as cpu:
            started = time.perf_counter()
            scan = sb.measure_scans(args, server, data["pairs"], device)
            wall = time.perf_counter() - started
        scan["cpu"] = cpu.cores
        scan["mix"] = sb.verdict_mix(device, HOST, target.port)
        scan["stored"] = sum(count for *_, count in scan["mix"])
        scan["galera"] = galera_phase_end(cluster, target, before, wall, scan["requests"])
        print(f"  scans:   {scan['rps']:.0f} req/s, p50 {scan['p50_ms']:.1f} ms, p90 {scan['p90_ms']:.1f} ms, "
              f"p99 {scan['p99_ms']:.1f} ms, {scan['requests']} requests, errors {scan['errors']}, stored "
              f"{scan['stored']} (" + ", ".join(f"{v}/{r} {c}" for v, r, c in scan["mix"]) + ")")
        print(f"           {cpu.text()}")
        if scan["galera"]:
            print(f"           Galera: {galera_text(scan['galera'])}")
        result["scan"] = scan

        sb.wait_for_quiet(args.wait_quiet)
        before = galera_phase_start(cluster, target)
        with Meter(server, target.groups) as cpu:
            batch = sb.measure_batch(args, server, data["batch"], f"batch-{label}")
        batch["cpu"] = cpu.cores
        batch["galera"] = galera_phase_end(cluster, target, before, batch["seconds"], batch["scans"])
        print(f"  batch:   {batch['sps']:.0f} scans/s ({batch['scans']} scans in {batch['requests']} uploads, "
              f"{batch['seconds']:.1f} s, upload p50 {batch['batch_p50_s']:.2f} s, failed {batch['bad_status']})")
        print(f"           {cpu.text()}")
        if batch["galera"]:
            print(f"           Galera: {galera_text(batch['galera'])}")
        result["batch"] = batch
    finally:
        server.stop()
    return result


def galera_phase_start(cluster, target):
    if target.name != "cluster":
        return None
    galera_flush(cluster)
    return galera_snapshot(cluster)


def galera_phase_end(cluster, target, before, wall, scans):
    if before is None:
        return None
    writer = cluster.writer_node()
    return galera_figures(before, galera_snapshot(cluster), writer.name if writer else "n1", wall, scans)


# --- report --------------------------------------------------------------------------------------


def mean(values):
    values = [value for value in values if value is not None]
    return statistics.fmean(values) if values else None


def summarize(results, key, pick):
    """Mean over rounds of `pick(result[key])` for each target."""
    return {name: mean([pick(r[key]) for r in runs]) for name, runs in results.items()}


NOT_PER_SCAN = ("gunicorn", "client", "other", "stolen", "probes")  # the probes' cost is per second, not per scan


def database_cores(cpu):
    """Cores of the database's processes that work per scan (the nodes, HAProxy) in a Meter's figures."""
    return sum(value for key, value in cpu.items() if key not in NOT_PER_SCAN)


NAMES = ("single", "cluster")
PHASES = (("scan", "rps", "online scans"), ("batch", "sps", "batch uploads"))
KIND = {"scan": "online", "batch": "uploaded"}


def summary_rows(probes, results):
    """(title, [single, cluster, cluster/single]) for each figure of the summary."""
    names = NAMES
    rows = []

    def row(title, values, fmt="{:.0f}", ratio=True):
        cells = [fmt.format(values[name]) if values.get(name) is not None else "-" for name in names]
        if ratio and values.get("single") and values.get("cluster") is not None:
            cells.append(f"{values['cluster'] / values['single']:.2f}")
        else:
            cells.append("")
        rows.append((title, cells))

    def text_row(title, values):
        rows.append((title, [values.get(name, "-") for name in names] + [""]))

    for clients in sorted(probes["single"]):
        row(f"commit probe, {clients} client(s): commits/s", {n: probes[n][clients]["commits_per_s"] for n in names})
        row("  commit p50 ms", {n: probes[n][clients]["p50_ms"] for n in names}, "{:.2f}")
        row("  commit p99 ms", {n: probes[n][clients]["p99_ms"] for n in names}, "{:.2f}")
    row("/healthz req/s", summarize(results, "healthz", lambda h: h["rps"]))
    text_row("scans/s, each round", {n: " / ".join(f"{r['scan']['rps']:.0f}" for r in results[n]) for n in names})
    row("scans/s (mean)", summarize(results, "scan", lambda s: s["rps"]))
    for pct in ("p50", "p90", "p99"):
        row(f"scan {pct} ms", summarize(results, "scan", lambda s, p=pct: s[f"{p}_ms"]), "{:.1f}")
    row("scan errors (non-2xx + socket)", summarize(results, "scan", lambda s: s["errors"]), ratio=False)
    row("scan events stored (wrk counts no request in flight at its end)",
        summarize(results, "scan", lambda s: s["stored"]), ratio=False)
    row("scan requests answered", summarize(results, "scan", lambda s: s["requests"]), ratio=False)
    row("  of which already_boarded", summarize(results, "scan", lambda s: sum(
        c for _, reason, c in s["mix"] if reason == "already_boarded")), ratio=False)
    text_row("batch scans/s, each round", {n: " / ".join(f"{r['batch']['sps']:.0f}" for r in results[n])
                                           for n in names})
    row("batch scans/s (mean)", summarize(results, "batch", lambda b: b["sps"]))
    row("batch failed uploads", summarize(results, "batch", lambda b: b["bad_status"]), ratio=False)
    for phase, rate, _ in PHASES:
        row(f"gunicorn CPU ms per {KIND[phase]} scan", {n: mean([1000 * r[phase]["cpu"]["gunicorn"] / r[phase][rate]
                                                          for r in results[n] if r[phase][rate]]) for n in names},
            "{:.2f}")
        row(f"database CPU ms per {KIND[phase]} scan", {n: mean([1000 * database_cores(r[phase]["cpu"]) / r[phase][rate]
                                                          for r in results[n] if r[phase][rate]]) for n in names},
            "{:.2f}")
        for group in [key for key in results["cluster"][0][phase]["cpu"] if key not in NOT_PER_SCAN]:
            row(f"  {group} CPU ms per {KIND[phase]} scan", {"cluster": mean([
                1000 * r[phase]["cpu"][group] / r[phase][rate] for r in results["cluster"] if r[phase][rate]])},
                "{:.2f}", ratio=False)
    return rows


def print_summary(args, settings, probes, results, loads):
    """The figures of both databases side by side, their ratios, the CPU and Galera's figures."""
    rows = summary_rows(probes, results)
    width = max(len(title) for title, _ in rows) + 2
    column = max(16, *(len(cell) + 2 for _, cells in rows for cell in cells))
    line = "=" * (width + column * 3)
    print(f"\n{line}\nSUMMARY  {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}  {sb.machine()}  commit "
          f"{sb.git_commit()}")
    print(f"load average at start {loads[0]}, at end {loads[1]}; MariaDB {settings['version']}, "
          f"innodb_flush_log_at_trx_commit={settings['innodb_flush_log_at_trx_commit']}, buffer pool "
          f"{settings['innodb_buffer_pool_mb']} MiB on both; {args.workers} sync gunicorn workers; wrk "
          f"-t{args.wrk_threads} -c{args.connections} -d{args.duration}s; {args.rounds} round(s), "
          f"{args.passengers} passengers per round; batch {args.uploaders} uploaders × {args.batch_size} scans × "
          f"{args.batch_trips}")
    print("-" * len(line))
    print("".ljust(width) + "single".rjust(column) + "cluster".rjust(column) + "cluster/single".rjust(column))
    for title, cells in rows:
        print(title.ljust(width) + "".join(cell.rjust(column) for cell in cells))
    print(line)
    print("database CPU per scan: single, mariadbd; cluster, the three nodes and HAProxy (the clustercheck probes "
          "HAProxy asks every second cost the same whatever the load: not counted per scan). Cores, mean over rounds:")
    for phase, _, title in PHASES:
        for n in NAMES:
            cpu = [r[phase]["cpu"] for r in results[n]]
            print(f"  {title} on {n}: " + ", ".join(f"{key} {mean([c.get(key) for c in cpu]):.2f}" for key in cpu[0]))
    for phase, _, title in PHASES:
        figures = [r[phase]["galera"] for r in results["cluster"] if r[phase].get("galera")]
        for number, figure in enumerate(figures, 1):
            print(f"Galera during {title} (round {number}): {galera_text(figure)}")
    noisy = [f"{n} round {i + 1} {phase}" for n in NAMES for i, r in enumerate(results[n])
             for phase in ("scan", "batch") if r[phase]["cpu"]["other"] + r[phase]["cpu"]["stolen"] > 0.2]
    if noisy:
        print("WARNING: other work on the machine (or the hypervisor) took more than 0.2 cores during: "
              + ", ".join(noisy) + ". Those figures are low; the ratio is fair only if both sides were disturbed "
              "alike (ABBA order helps).")


# --- main ------------------------------------------------------------------------------------------


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds of each wrk scan run (default 15)")
    parser.add_argument("--healthz-seconds", type=int, default=5, help="seconds of each /healthz run (default 5)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds; each measures both databases, in ABBA order across rounds (default 2)")
    parser.add_argument("--passengers", type=int, default=12000,
                        help="passengers with a QR for the online scans, per database and round (default 12000)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (default 4)")
    parser.add_argument("--uploaders", type=int, default=4, help="concurrent batch uploaders (default 4)")
    parser.add_argument("--batch-size", type=int, default=500, help="scans per upload: board + arrive (default 500)")
    parser.add_argument("--batch-trips", type=int, default=16, help="uploads (one trip each) per database and round")
    parser.add_argument("--probe-seconds", type=float, default=4, help="seconds of each commit probe (default 4)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--offset", type=int, default=OFFSET, help=f"port offset of the cluster (default {OFFSET})")
    parser.add_argument("--wait-quiet", type=int, default=30,
                        help="before each measurement wait up to this many seconds for other work to stop (default 30)")
    parser.add_argument("--keep", action="store_true", help="leave the temporary directory (logs, data) in place")
    args = parser.parse_args()
    args.order = "sequential"
    return args


def make_targets(single, cluster):
    """The two databases as the app sees them, with the processes whose CPU each one's figures count."""
    def cluster_groups():
        writer = cluster.writer_node()
        return {"writer node": [n.server.pid for n in cluster.nodes if n is writer],
                "other nodes": [n.server.pid for n in cluster.nodes if n is not writer],
                "haproxy": [cluster.haproxy.pid], "probes": [n.check.pid for n in cluster.nodes]}

    return [Target("single", single.port, f"mysql+pymysql://root@{HOST}:{single.port}/{sb.DB_NAME}?charset=utf8mb4",
                   lambda: {"mariadbd": [single.server.pid]}),
            Target("cluster", cluster.write_port, cluster.writer_url(sb.DB_NAME), cluster_groups)]


def prepare_all(args, targets, labels, env, workdir):
    """Each database's data, the same on both (Redis is flushed once, before the first)."""
    data = {}
    for number, target in enumerate(targets):
        started = time.perf_counter()
        print(f"preparing {sb.DB_NAME} on {target.name} (migrations, seed, key, passengers) ...", flush=True)
        data.update(prepare_in_child({**env, "DATABASE_URL": target.url}, target.port, labels[target.name],
                                     args, workdir, flush_redis=number == 0))
        print(f"  {target.name} prepared in {time.perf_counter() - started:.0f} s", flush=True)
    return data


def probe_all(args, targets):
    """The commit probe on each database: 1 client, then as many as wrk's connections."""
    probes = {}
    for target in targets:
        sb.wait_for_quiet(args.wait_quiet)
        probes[target.name] = {clients: commit_probe(target.port, args.probe_seconds, clients)
                               for clients in (1, args.connections)}
        print(f"commit probe on {target.name}: " + "; ".join(
            f"{clients} client(s) {p['commits_per_s']:.0f} commits/s, p50 {p['p50_ms']:.2f} ms, "
            f"p99 {p['p99_ms']:.2f} ms" for clients, p in probes[target.name].items()), flush=True)
    return probes


def run_rounds(args, targets, labels, data, env, workdir, cluster):
    """Every round against both databases, in ABBA order across rounds."""
    results = {t.name: [] for t in targets}
    used_ports = set()
    for number in range(args.rounds):
        for target in targets if number % 2 == 0 else list(reversed(targets)):
            label = labels[target.name][number]
            results[target.name].append(run_target(args, target, data[label], label, env, workdir, cluster,
                                                   used_ports))
    return results


def main():
    args = parse_args()
    lacking = [name for name in ("wrk",) if shutil.which(name) is None] + galera.missing()
    if lacking:
        raise SystemExit(f"missing: {', '.join(lacking)} (apt-get install -y wrk haproxy galera-4 rsync)")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    loads = [" ".join(f"{v:.2f}" for v in os.getloadavg())]
    print(f"machine: {sb.machine()}; load average {loads[0]}")
    workdir = Path(tempfile.mkdtemp(prefix="fangang-cluster-bench-"))
    os.chmod(workdir, 0o755)
    cluster = galera.GaleraCluster(workdir / "cluster", offset=args.offset)
    single = SingleNode(workdir / "single", 3310 + args.offset)
    started = time.perf_counter()
    try:
        print(f"starting the single mariadbd on {HOST}:{single.port} and a 3-node Galera cluster (offset "
              f"{args.offset}: nodes {cluster.nodes[0].port}-{cluster.nodes[-1].port}, HAProxy writer "
              f"{cluster.write_port}) under {workdir} ...", flush=True)
        single.start()
        cluster.start()
        print(f"both up in {time.perf_counter() - started:.0f} s")
        targets = make_targets(single, cluster)
        env = sb.bench_env(base64.urlsafe_b64encode(os.urandom(32)).decode())
        labels = {t.name: [f"{t.name}-r{n + 1}" for n in range(args.rounds)] for t in targets}
        data = prepare_all(args, targets, labels, env, workdir)
        probes = probe_all(args, targets)
        results = run_rounds(args, targets, labels, data, env, workdir, cluster)
        loads.append(" ".join(f"{v:.2f}" for v in os.getloadavg()))
        print_summary(args, sb.server_settings(HOST, single.port), probes, results, loads)
        print(f"(whole run {time.perf_counter() - started:.0f} s)")
    except KeyboardInterrupt:
        print("\ninterrupted")
        return 130
    finally:
        cluster.stop()
        single.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
