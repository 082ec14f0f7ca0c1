"""Issue 16, the Galera proofs: the writer killed under load, two scanners on two nodes, one node cut off.

One three-node cluster for the module (`deploy/cluster/galera.GaleraCluster`, port offset 100:
nodes 3411-3413, HAProxy's writer 3420), a redis-server of its own, and the app under gunicorn
as in production (gunicorn.conf.py, 2 sync workers) with DATABASE_URL through HAProxy's writer
port. Passengers are made as tests/faults makes them. Each proof prints its figures in one
`[cluster] ...` line and asserts what the issue promises:

1. SIGKILL of the node HAProxy writes to, under 16 scanners: every failure a JSON 503 with
   Retry-After, HAProxy on another node, no acknowledged scan missing on a survivor, two nodes
   left; restarted as mariadb.service restarts it (its position recovered from InnoDB first), the
   node rejoins (IST or SST, read from its error log) and all three are Synced.
2. Two gunicorns, one on each of two nodes (bypassing HAProxy), board the same passenger at one
   moment, once per seat: exactly one allow and one already_boarded, never a 5xx, one boarding
   stored per seat on every node. The races Galera settled by a conflict (1213 at COMMIT, or at a
   statement the winner's write set aborted; the app retries both) are counted from the nodes'
   wsrep_local_cert_failures and wsrep_local_bf_aborts; none would make the proof prove nothing.
3. Under 16 scanners, a non-writer node stopped (SIGSTOP), then cut off the group's network
   (gmcast.isolate): the two others keep a Primary component of two and serve; the cut-off node,
   alone and non-Primary, refuses a write and a read (1047) and HAProxy's read port takes it out;
   back, it rejoins; no acknowledged scan missing on any node.

Slow (about two minutes on the 2-core machine): runs only with RUN_CLUSTER=1 (.ci/run).
"""
import base64
import os
import re
import time
from types import SimpleNamespace

import pytest

from tests.cluster import galera_harness as galera
from tests.faults import stack
from tests.faults.test_dependency_faults import _passengers

pytestmark = pytest.mark.cluster

OFFSET = 100
SCANNERS = 16
WARM_UP = 4.0
AFTER = 4.0
RECOVERY_BOUND = 20.0  # from the kill to scans answered again: HAProxy's health checks, then a new connection
SLOWEST_FAILURE_BOUND = 12.0  # as tests/faults: a statement's DB_READ_TIMEOUT plus a wait for a free worker
QUORUM_BOUND = 30.0  # until the two others agree the third is gone (Galera's suspect timeout)
REJOIN_BOUND = 120.0
RACE_SEATS = 32
ER_UNKNOWN_COM_ERROR = 1047  # "WSREP has not yet prepared node for application use"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """The cluster, a redis-server, the passengers, and gunicorn writing through HAProxy."""
    stack.require("RUN_CLUSTER", "start a three-node Galera cluster and break it", galera.missing())
    from deploy.cluster.galera import GaleraCluster

    workdir = tmp_path_factory.mktemp("galera")
    (workdir / "redis").mkdir()
    cluster, redis = GaleraCluster(workdir / "cluster", offset=OFFSET), stack.Redis(workdir / "redis")
    servers = []
    try:
        cluster.start()
        redis.start()
        with cluster.node(0).connect() as connection, connection.cursor() as cursor:
            cursor.execute("CREATE DATABASE fangang CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        galera.make_probe(cluster.node(0))
        data_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
        pairs = _passengers(cluster.writer_url("fangang"), redis.url, data_key)

        def gunicorn(database_url, name):
            env = stack.app_env(SimpleNamespace(url=database_url), redis, data_key)
            server = stack.Gunicorn(env, workdir / f"{name}.log")
            servers.append(server)
            server.start()
            return server

        app = gunicorn(cluster.writer_url("fangang"), "gunicorn-haproxy")
        yield SimpleNamespace(cluster=cluster, redis=redis, data_key=data_key, pairs=pairs, gunicorn=gunicorn,
                              workdir=workdir, app=app)
    finally:
        for server in servers:
            server.stop()
        redis.stop()
        cluster.stop()


def report(capsys, name, figures):
    """Print the figures in one line whatever pytest captures."""
    shown = {key: value for key, value in figures.items() if not key.startswith("_")}
    with capsys.disabled():
        print(f"\n[cluster] {name}: " + "; ".join(f"{key} {value}" for key, value in shown.items()))


def rate(answers, start, end):
    """Scans answered 200 per second between two moments."""
    done = [a for a in answers if a.status == 200 and start <= a.started + a.seconds < end]
    return round(len(done) / max(end - start, 1e-9), 1)


def check_failures(failures):
    """Every failed scan is the app's JSON 503 with Retry-After: never a closed connection or an HTML page."""
    for failure in failures:
        assert failure.status == 503, f"a failure answered {failure.status} after {failure.seconds:.1f} s"
        assert failure.retry_after and int(failure.retry_after) > 0
        assert set(failure.body) == {"error"} and failure.body["error"]["code"] == "unavailable"


def missing_on(members, answers):
    """How many scans answered 200 each node lacks: {node name: count}."""
    acknowledged = [a.client_event_id for a in answers if a.status == 200]
    return {node.name: len(set(acknowledged) - galera.stored(node, acknowledged)) for node in members}


def test_writer_killed_under_load(setup, capsys):
    cluster = setup.cluster
    galera.wait_primary(cluster, cluster.nodes, 3, 60)
    victim = cluster.writer_node()  # asked through HAProxy's writer port, not assumed
    survivors = [node for node in cluster.nodes if node is not victim]
    log_offset = galera.log_offset(victim)
    scanners = stack.Scanners(setup.app.port, setup.pairs, threads=SCANNERS)
    scanners.start()
    time.sleep(WARM_UP)
    killed_at = time.monotonic()
    victim.kill()
    deadline = killed_at + RECOVERY_BOUND + SLOWEST_FAILURE_BOUND
    while time.monotonic() < deadline and not _recovered(scanners.answers, killed_at):
        time.sleep(0.2)
    time.sleep(AFTER)
    scanners.stop()
    ended_at = time.monotonic()
    answers = list(scanners.answers)
    _keep(setup.workdir / "writer-killed.tsv", answers, killed_at)
    failures = [a for a in answers if a.status != 200]
    recovered_at = _recovered(answers, killed_at)
    new_writer = cluster.writer_node()
    size_after = _wait_size(cluster, survivors, 2)
    missing = missing_on(survivors, answers)  # before the killed node is back: on the survivors alone

    restarted_at = time.monotonic()
    try:
        victim.start(timeout=REJOIN_BOUND)  # its position recovered from InnoDB first, as mariadb.service does
        galera.wait_primary(cluster, cluster.nodes, 3, REJOIN_BOUND)
        rejoin_seconds = round(time.monotonic() - restarted_at, 1)
    except RuntimeError:
        rejoin_seconds = None
    transfer, transfer_line = galera.state_transfer(victim, log_offset)
    missing.update(missing_on([victim], answers) if rejoin_seconds is not None else {})
    figures = {
        "writer": f"{victim.name} → {new_writer.name if new_writer else None}", "scans": len(answers),
        "failed": len(failures), "failure statuses": sorted({a.status for a in failures}, key=str),
        "slowest failure s": round(max((a.seconds for a in failures), default=0.0), 2),
        "last failure answered s": round(max((a.started + a.seconds for a in failures), default=killed_at)
                                         - killed_at, 2),
        "until scans succeed again s": None if recovered_at is None else round(recovered_at - killed_at, 2),
        "scans/s before": rate(answers, killed_at - WARM_UP, killed_at),
        "during": rate(answers, killed_at, recovered_at or ended_at),
        "after": rate(answers, recovered_at or ended_at, ended_at),
        "acknowledged missing": sum(missing[node.name] for node in survivors), "cluster size after": size_after,
        f"{victim.name} restarted, 3 Synced after s": rejoin_seconds,
        "it caught up by": transfer,
        f"acknowledged missing on {victim.name}": missing.get(victim.name), "_transfer_line": transfer_line,
    }
    report(capsys, f"writer ({victim.name}) killed under {SCANNERS} scanners", figures)
    check_failures(failures)
    assert figures["slowest failure s"] <= SLOWEST_FAILURE_BOUND
    assert recovered_at is not None and recovered_at - killed_at <= RECOVERY_BOUND
    assert new_writer is not None and new_writer is not victim and size_after == 2
    assert rejoin_seconds is not None and transfer is not None, transfer_line
    assert missing == {node.name: 0 for node in cluster.nodes}, missing


def _keep(path, answers, moment):
    """Every scan's start, end (seconds from `moment`) and status, for a look at the timeline after a run."""
    path.write_text("".join(f"{a.started - moment:.3f}\t{a.started + a.seconds - moment:.3f}\t{a.status}\n"
                            for a in sorted(answers, key=lambda a: a.started)))


def _recovered(answers, killed_at):
    """When scans succeed again after the kill: the first 200 sent after the kill that ends after every failure."""
    answers = list(answers)
    last_failure = max((a.started + a.seconds for a in answers if a.status != 200), default=killed_at)
    return min((a.started + a.seconds for a in answers if a.status == 200 and a.started >= killed_at
                and a.started + a.seconds >= last_failure), default=None)


def _wait_size(cluster, members, size):
    """Wait (up to QUORUM_BOUND) for these nodes to form a Primary component of `size`; the size they report."""
    try:
        galera.wait_primary(cluster, members, size, QUORUM_BOUND)
    except RuntimeError:
        pass
    return int(members[0].status().get("wsrep_cluster_size", 0))


def test_two_scanners_one_seat_two_nodes(setup, capsys):
    cluster = setup.cluster
    galera.wait_primary(cluster, cluster.nodes, 3, REJOIN_BOUND)
    seats = galera.race_seats(cluster.writer_url("fangang"), setup.redis.url, setup.data_key, RACE_SEATS)
    pair = cluster.nodes[:2]
    apps = [setup.gunicorn(cluster.node_url(index, "fangang"), f"gunicorn-{node.name}")
            for index, node in enumerate(pair)]
    outcomes, event_ids, conflicted, conflicts = [], [], 0, {"cert": 0, "bf": 0}
    for round_no, (captain, vice, qr) in enumerate(seats):
        tokens = (captain, vice) if round_no % 2 == 0 else (vice, captain)  # each scanner on each node in turn
        before = galera.conflicts(pair)
        results = galera.race([(apps[0].port, tokens[0]), (apps[1].port, tokens[1])], qr)
        after = galera.conflicts(pair)
        conflicted += after != before
        conflicts = {kind: conflicts[kind] + after[kind] - before[kind] for kind in conflicts}
        event_ids += [event_id for event_id, _, _ in results]
        outcomes.append([(status, (body or {}).get("verdict"), (body or {}).get("reason"))
                         for _, status, body in results])
    right = sorted([(200, "allow", "ok"), (200, "deny", "already_boarded")])
    stored = {node.name: galera.boardings(node, event_ids) for node in cluster.nodes}
    first = stored[cluster.nodes[0].name]
    figures = {
        "races": len(outcomes), "one allow + one already_boarded": sum(sorted(o) == right for o in outcomes),
        "5xx": sum(1 for o in outcomes for status, _, _ in o if status is None or status >= 500),
        "races Galera settled by a conflict": conflicted, "certification failures": conflicts["cert"],
        "brute-force aborts": conflicts["bf"],
        "app retries logged": sum(_retries(app.log_path) for app in apps),
        "seats boarded once on every node": sum(all(seen.get(seat) == (1, 1) for seen in stored.values())
                                                for seat in first),
        "_outcomes": outcomes,
    }
    report(capsys, f"two scanners, one seat, through {pair[0].name} and {pair[1].name}", figures)
    assert [o for o in outcomes if sorted(o) != right] == []
    assert conflicted > 0, "no race reached Galera's certification: the proof proved nothing about it"
    assert len(first) == len(seats) and figures["seats boarded once on every node"] == len(seats), stored


def _retries(log_path):
    """How many conflict retries a gunicorn logged (app/conflicts.py: "write conflict in <endpoint>: try 2 of 4")."""
    return len(re.findall(r"write conflict in \S+: try \d+ of \d+", log_path.read_text(errors="replace")))


def test_one_node_cut_off_under_load(setup, capsys):
    cluster = setup.cluster
    galera.wait_primary(cluster, cluster.nodes, 3, REJOIN_BOUND)
    writer = cluster.writer_node()
    node = next(other for other in cluster.nodes if other is not writer)
    others = [other for other in cluster.nodes if other is not node]
    scanners = stack.Scanners(setup.app.port, setup.pairs, threads=SCANNERS)
    scanners.start()
    time.sleep(WARM_UP)

    log_offset = galera.log_offset(node)
    stopped_at = time.monotonic()  # SIGSTOP: the node answers nothing, to the group or to clients
    node.pause()
    quorum_stopped = _seconds_to_primary(cluster, others, 2)
    evicted_at = time.monotonic()
    time.sleep(AFTER)
    resumed_at = time.monotonic()
    node.resume()
    rejoin_stopped = _seconds_to_primary(cluster, cluster.nodes, 3, REJOIN_BOUND)
    transfer_stopped, _ = galera.state_transfer(node, log_offset)

    log_offset = galera.log_offset(node)
    isolated_at = time.monotonic()  # gmcast.isolate: alive and answering clients, cut off the group
    galera.isolate(node, True)
    quorum_isolated = _seconds_to_primary(cluster, others, 2)
    alone = _alone(node)
    refused, refused_read = galera.try_write(node), galera.try_read(node)
    taken_out = galera.haproxy_state(cluster, "galera_read", node, "DOWN", AFTER)
    time.sleep(AFTER)
    joined_at = time.monotonic()
    galera.isolate(node, False)
    rejoin_isolated = _seconds_to_primary(cluster, cluster.nodes, 3, REJOIN_BOUND)
    transfer_isolated, _ = galera.state_transfer(node, log_offset)
    time.sleep(AFTER)
    scanners.stop()
    ended_at = time.monotonic()

    answers = list(scanners.answers)
    failures = [a for a in answers if a.status != 200]
    missing = missing_on(cluster.nodes, answers)
    figures = {
        "cut node": node.name, "writer": writer.name, "scans": len(answers), "failed": len(failures),
        "failure statuses": sorted({a.status for a in failures}, key=str),
        "slowest scan s": round(max(a.seconds for a in answers), 2),
        "scans/s before": rate(answers, stopped_at - WARM_UP, stopped_at),
        "stopped: two Primary after s": quorum_stopped,
        "scans/s until then": rate(answers, stopped_at, evicted_at),
        "then": rate(answers, evicted_at, resumed_at), "3 Synced after SIGCONT s": rejoin_stopped,
        "it caught up by": transfer_stopped,
        "isolated: two Primary after s": quorum_isolated,
        "isolated node": f"{alone.get('wsrep_cluster_status')} of {alone.get('wsrep_cluster_size')}",
        "its write refused": refused[0] if refused else None, "its read": refused_read[0] if refused_read else None,
        "on HAProxy's read port": taken_out,
        "scans/s while isolated": rate(answers, isolated_at, joined_at), "3 Synced after rejoin s": rejoin_isolated,
        "it caught up again by": transfer_isolated,
        "scans/s after": rate(answers, joined_at, ended_at),
        "acknowledged missing": sum(missing.values()),
    }
    report(capsys, f"{node.name} stopped, then cut off, under {SCANNERS} scanners", figures)
    check_failures(failures)
    assert figures["slowest scan s"] <= SLOWEST_FAILURE_BOUND
    assert quorum_stopped is not None and quorum_isolated is not None
    assert figures["then"] > 0 and figures["scans/s while isolated"] > 0  # the two serve
    assert alone.get("wsrep_cluster_status") == "non-Primary"
    assert refused is not None and refused[0] == ER_UNKNOWN_COM_ERROR, refused
    assert refused_read is not None and refused_read[0] == ER_UNKNOWN_COM_ERROR, refused_read  # no stale reads
    assert taken_out.startswith("DOWN")
    assert rejoin_stopped is not None and rejoin_isolated is not None
    assert missing == {other.name: 0 for other in cluster.nodes}, missing
    assert all(galera.try_write(each) is None for each in cluster.nodes)  # every node takes writes again


def _alone(node):
    """The cut-off node's wsrep status once it sees itself outside the Primary component (or after the bound)."""
    try:
        stack.wait_until(lambda: node.status().get("wsrep_cluster_status") == "non-Primary",
                         QUORUM_BOUND, "the cut-off node non-Primary")
    except RuntimeError:
        pass
    return node.status()


def _seconds_to_primary(cluster, members, size, bound=QUORUM_BOUND):
    """Seconds until these nodes are Synced in a Primary component of `size`, or None past `bound`."""
    try:
        return round(galera.wait_primary(cluster, members, size, bound), 1)
    except RuntimeError:
        return None
