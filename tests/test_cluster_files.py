"""deploy/cluster/: the clustercheck's verdict, and the configuration files as the scripts fill them.

The cluster itself (three mariadbd, HAProxy, Sentinel) starts in the RUN_CLUSTER tests (.ci/run);
these check, in a second, what those would only find slowly.
"""
import configparser
import shutil
import subprocess

import pytest

from deploy.cluster import clustercheck, galera

SYNCED = {"wsrep_local_state": "4", "wsrep_ready": "ON", "wsrep_cluster_status": "Primary"}


def test_a_synced_writable_node_is_fit():
    assert clustercheck.verdict(SYNCED, read_only=False) == (True, "synced")


@pytest.mark.parametrize("change, reason", [
    ({"wsrep_cluster_status": "non-Primary"}, "not in the primary component"),
    ({"wsrep_ready": "OFF"}, "wsrep not ready"),
    ({"wsrep_local_state": "1"}, "not synced"),  # joining
    ({"wsrep_local_state": "2"}, "not synced"),  # donor
    ({"wsrep_local_state": "3"}, "not synced"),  # joined, catching up
])
def test_a_node_not_fit_to_serve_is_out(change, reason):
    fit, why = clustercheck.verdict({**SYNCED, **change}, read_only=False)
    assert not fit and why.startswith(reason)


def test_read_only_is_out_and_a_donor_only_when_allowed():
    assert clustercheck.verdict(SYNCED, read_only=True) == (False, "read-only")
    donor = {**SYNCED, "wsrep_local_state": "2"}
    assert clustercheck.verdict(donor, read_only=False, available_when_donor=True)[0]


def test_a_node_that_does_not_answer_is_out():
    class Args:
        host, port, user, password, timeout, available_when_donor = "127.0.0.1", 1, "x", "", 0.5, False
    fit, why = clustercheck.probe(Args)
    assert not fit and why.startswith("no answer")


def test_a_node_config_has_what_galera_requires(tmp_path):
    node = galera.GaleraCluster(tmp_path, offset=7).nodes[1]
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(node.render_config())
    section = parser["mariadbd"]
    assert section["wsrep_on"] == "ON" and section["binlog_format"] == "ROW"
    assert section["innodb_autoinc_lock_mode"] == "2" and section["default_storage_engine"] == "InnoDB"
    assert section["port"] == str(3312 + 7) and section["wsrep_node_name"] == "n2"
    assert section["wsrep_cluster_address"] == "gcomm://127.0.0.1:4578,127.0.0.1:4579,127.0.0.1:4580"
    assert f"ist.recv_addr=127.0.0.1:{node.ist_port}" in section["wsrep_provider_options"]
    assert section["user"] == "mysql"  # rsync SST runs as the server's user


def test_haproxy_config_is_valid_with_one_writer(tmp_path):
    if shutil.which("haproxy") is None and not (galera.Path("/usr/sbin/haproxy")).exists():
        pytest.skip("haproxy is not installed (.ci/run installs it)")
    filled = galera.GaleraCluster(tmp_path, offset=7).render_haproxy()
    (tmp_path / "haproxy.cfg").write_text(filled, encoding="utf-8")
    checked = subprocess.run([galera._which("haproxy"), "-c", "-f", str(tmp_path / "haproxy.cfg")],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    write = filled.split("listen galera_write")[1].split("listen galera_read")[0]
    servers = [line.split() for line in write.splitlines() if line.strip().startswith("server ")]
    assert len(servers) == 3 and sum("backup" not in line for line in servers) == 1  # one writer
    assert "stick on dst" in write  # no fail-back when the first node returns



def test_the_hosts_clustercheck_unit_runs_it_with_arguments_it_takes():
    text = (galera.HERE / "fangang-clustercheck.service").read_text(encoding="utf-8").replace("\\\n", " ")
    [command] = [line.split("=", 1)[1].split() for line in text.splitlines() if line.startswith("ExecStart=")]
    assert command[1] == "deploy/cluster/clustercheck.py"
    options = command[2:]
    password_at = options.index("--password-file") + 1
    options[password_at] = __file__  # any readable file: the real one lives on the host
    args = clustercheck.arguments(options)
    assert (args.listen, args.port, args.user) == ("0.0.0.0:9200", 3306, "clustercheck")
