"""Health certificate checks (健康证明互认) per second: offline in process, online through gunicorn, beside the trip scan.

Run from the repository root:

    .venv/bin/python bench/certificate_bench.py [--offline-only] [--partners 3] [--revoked 2000]
        [--rounds 5] [--connections 16] [--duration 20] [--workers 4] [--certificates 6000]

1. Offline, in this process, one core, no database (what a phone or `python -m checkin.offline`
   does): trip QRs decided with `bundles.decide_offline` (80-seat manifest) beside certificates
   decided with `verify_certificate` and with `bundles.decide_certificate_offline`, with the
   bundle's issuers read once and read on every call (this deployment and --partners partners, each
   with --revoked revoked serials), and the cost of one ID match (scrypt). Every signature is
   really checked: the per-process caches of checked signatures are cleared before each call.
   Best of --rounds.
2. Online (skipped with --offline-only): rebuilds the MariaDB database `fangang_cert_bench`
   (migrations, seed, keys of every purpose), makes passengers with trip QRs as bench/scan_bench.py
   does, a checkpoint officer, a partner deployment (its trust list signed with its own root key,
   stored as an imported partner) and --certificates certificates, half this deployment's and half
   the partner's; starts gunicorn (sync workers) and measures with wrk in the same run: GET /healthz,
   trip boarding scans (bench/scan.lua) and POST /api/checkin/v1/certificates/verify
   (bench/certificate.lua). When the verify route is not there (404/405), it says so and measures
   the rest. Needs MariaDB on 127.0.0.1:3306 (root, no password), Redis on 127.0.0.1:6379 (db 3 is
   flushed) and wrk.
"""
import argparse
import base64
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import scan_bench  # noqa: E402  (gunicorn, wrk, CPU accounting and the host line, shared)

DB_NAME = "fangang_cert_bench"
VERIFY_PATH = "/api/checkin/v1/certificates/verify"
PARTNER = ("320500", "苏州市", ["320505", "320506", "320507", "320508"])
OWN_COUNTIES = ["640104", "640105", "640106", "640121", "640122", "640181"]
SEATS = 80


# --- offline, in process ---------------------------------------------------------------------------


def _claims(issuer, serial, county, now, salt, digest):
    from app.services.credentials.health_certificate import CertificateClaims

    return CertificateClaims(issuer=issuer, serial=serial, county=county, issued_at=now - 3600,
                             valid_until=now + 6 * 86400, name="张*三", id_last4="1236", id_salt=salt,
                             id_hash=digest, status="green", observation="none", check_temperature=365,
                             check_at=now - 7200)


def offline_world(partners, revoked, certificates):
    """A bundle as a checkpoint phone holds it, its trip QRs, and certificates from every issuer it carries."""
    from app.services.credentials import credentials
    from app.services.credentials.health_certificate import IssuerKey, TrustedIssuer, id_hash, issue_certificate
    from app.services.platform.timeutil import iso_local
    from app.services.scanning import bundles

    now = int(time.time())
    salt = os.urandom(8)
    digest = id_hash("640121199001011236", "张小三", salt)
    trip_key = credentials.generate_private_key()
    trip_public = credentials.public_key_bytes(trip_key)
    issuers, signers = [], []
    for number in range(partners + 1):
        key = credentials.generate_private_key()
        deployment = "640100" if number == 0 else f"{320500 + number * 100}"
        counties = OWN_COUNTIES if number == 0 else [f"{deployment[:4]}0{n}" for n in range(1, 6)]
        public = credentials.public_key_bytes(key)
        issuers.append(TrustedIssuer(
            deployment, f"城市{number}", (IssuerKey(credentials.key_id(public), public, "certificate",
                                                   frozenset(counties)),),
            frozenset(range(1, revoked + 1)), None if number == 0 else now - 3600))
        signers.append((deployment, counties, key))
    seats = [{"serial": serial, "seat_no": serial, "worker_id": 1000 + serial, "name": "张*", "id_last4": "1236",
              "status": "assigned", "boarded": False, "arrived": False,
              "health": {"status": "green", "reason": "normal"}} for serial in range(1, SEATS + 1)]
    bundle = {
        "version": 1, "issued_at": iso_local(datetime.now(UTC)),
        "trip": {"id": 42, "plate": "宁A12345", "origin": "永宁县", "destination": "苏州市",
                 "departure_date": "2020-02-24", "departure_time": "08:00"},
        "manifest": seats,
        "keys": [{"kid": credentials.key_id(trip_public), "algorithm": "Ed25519",
                  "public_key": base64.b64encode(trip_public).decode(), "retired_at": None}],
        "revocations": [], "rules": {"fever_threshold": "37.3"},
        "certificates": bundles.certificate_section(issuers, 24),
    }
    trips = [credentials.issue_credential(trip_key, serial=serial, trip_id=42, worker_id=1000 + serial,
                                          valid_from=now - 3600, valid_until=now + 86400)
             for serial in range(1, SEATS + 1)]
    certs = []
    for number in range(certificates):
        deployment, counties, key = signers[number % len(signers)]
        certs.append(issue_certificate(key, _claims(deployment, revoked + 1 + number, counties[number % len(counties)],
                                                    now, salt, digest)))
    return bundle, trips, certs, {issuer.deployment_id: issuer for issuer in issuers}


def _clear_caches():
    from app.services.credentials import credentials, health_certificate

    credentials._verified.cache_clear()
    health_certificate._signature_holds.cache_clear()


def _best_rate(items, call, rounds, clear=True):
    """(calls per second, µs per call) of the best round over every item."""
    best = None
    for _ in range(rounds):
        started = time.perf_counter()
        for item in items:
            if clear:
                _clear_caches()
            call(item)
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return len(items) / best, best / len(items) * 1e6


def measure_offline(args):
    """Every offline figure, printed as measured; returns them for the summary."""
    from app.services.credentials import health_certificate
    from app.services.scanning import bundles

    bundle, trips, certs, issuers = offline_world(args.partners, args.revoked, args.offline_certificates)
    stale = bundle["certificates"]["trust_stale_after_hours"]
    size = len(json.dumps(bundle["certificates"]))
    print(f"offline bundle: this deployment and {args.partners} partners, {args.revoked} revoked serials each "
          f"(the certificates section is {size / 1024:.0f} KiB of JSON); {len(certs)} distinct certificates")
    checks = {
        "trip QR, decide_offline (80 seats)": lambda: _best_rate(
            trips * max(1, len(certs) // len(trips)), lambda qr: bundles.decide_offline(bundle, qr, "board", 36.5),
            args.rounds),
        "certificate, verify_certificate": lambda: _best_rate(
            certs, lambda qr: health_certificate.verify_certificate(qr, issuers, stale_after_hours=stale), args.rounds),
        "certificate, decide_certificate_offline": lambda: _best_rate(
            certs, lambda qr: bundles.decide_certificate_offline(bundle, qr, issuers=read_once), args.rounds),
        "  … reading the bundle's issuers every call": lambda: _best_rate(
            certs, lambda qr: bundles.decide_certificate_offline(bundle, qr), args.rounds),
        "certificate, signature already checked (cache)": lambda: _best_rate(
            certs[:4000], lambda qr: health_certificate.verify_certificate(qr, issuers, stale_after_hours=stale),
            args.rounds, clear=False),
    }
    read_once = bundles.certificate_issuers(bundle)  # as a phone app would, once per bundle
    results = {}
    for label, measure in checks.items():
        verdicts = {health_certificate.verify_certificate(qr, issuers, stale_after_hours=stale).verdict
                    for qr in certs[:50]}
        assert verdicts == {"accept"}, verdicts  # measured on certificates that pass every check
        results[label] = measure()
        print(f"  {label:<48} {results[label][0]:>8,.0f} /s   {results[label][1]:>8.1f} µs each")
    times = []
    claims = health_certificate.decode_certificate(certs[0])[0]
    for _ in range(args.id_matches):
        started = time.perf_counter()
        assert health_certificate.matches_id(claims, "640121199001011236", "张小三")
        times.append(time.perf_counter() - started)
    results["id_match_ms"] = (statistics.median(times) * 1000, min(times) * 1000, max(times) * 1000)
    hc = health_certificate
    print(f"  one ID match (scrypt N=2^{hc.SCRYPT_N.bit_length() - 1}, r={hc.SCRYPT_R}, p={hc.SCRYPT_P}, "
          f"{128 * hc.SCRYPT_N * hc.SCRYPT_R // 2**20} MiB): median {results['id_match_ms'][0]:.1f} ms "
          f"(min {results['id_match_ms'][1]:.1f}, max {results['id_match_ms'][2]:.1f}; {args.id_matches} runs)")
    return results


# --- online, through gunicorn -----------------------------------------------------------------------


def _partner_row(now):
    """A partner deployment's keys, its list signed with its root key, as `flask trust add` would store it."""
    from app.models import TrustPartner
    from app.services.credentials import credentials, trust_lists
    from app.services.platform.timeutil import iso_local

    root, key = credentials.generate_private_key(), credentials.generate_private_key()
    public = credentials.public_key_bytes(key)
    deployment, name, counties = PARTNER
    body = {"deployment": {"id": deployment, "name": name}, "issued_at": iso_local(now),
            "valid_until": iso_local(now + timedelta(days=7)),
            "keys": [{"kid": credentials.key_id(public), "use": "certificate", "algorithm": "Ed25519",
                      "public_key": base64.b64encode(public).decode(), "counties": counties,
                      "valid_from": iso_local(now), "retired_at": None}],
            "revocations": {"certificate": []}}
    document = trust_lists.sign_trust_list(body, root)
    fingerprint = trust_lists.fingerprint(credentials.public_key_bytes(root))
    row = TrustPartner(deployment_id=deployment, name=name, fingerprint=fingerprint, source="bench",
                       counties=list(counties), document=document, list_issued_at=now, synced_at=now)
    return row, key


def prepare_online(env, args, workdir):
    """Trip pairs (captain token, QR) and certificate pairs (checkpoint token, certificate) in files."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Checkpoint
    from app.models.base import utcnow
    from app.services.accounts import staff
    from app.services.credentials import signing
    from app.services.credentials.health_certificate import id_hash, issue_certificate
    from app.services.platform import tokens

    rng = random.Random(args.seed)
    app = scan_bench.make_app(env)
    with app.app_context():
        trips = scan_bench.make_passengers("cert", args.passengers, SEATS, "压测城市-证明", rng)
        trip_pairs = [(token, qr) for _, token, qrs in trips for _, qr in qrs]
        rng.shuffle(trip_pairs)
        checkpoint = db.session.scalar(select(Checkpoint).where(Checkpoint.code == "yinchuan-railway"))
        officer = staff.create_staff("bench-checkpoint", base64.b64encode(os.urandom(18)).decode(),
                                     "checkpoint_staff", "压测卡口", checkpoint_id=checkpoint.id, by=staff.CLI)
        token, _ = tokens.issue_token("staff", officer.id, ttl=86400)
        now = utcnow().replace(microsecond=0)
        partner, partner_key = _partner_row(now)
        db.session.add(partner)
        own_key = signing.private_key_of(signing.active_key("certificate"))
        db.session.commit()
        unix = int(now.replace(tzinfo=UTC).timestamp())
        salt = os.urandom(8)
        digest = id_hash("640121199001011236", "张小三", salt)  # one hash for all: nobody's card is matched here
        certs = []
        for number in range(args.certificates):
            if number % 2:
                certs.append(issue_certificate(partner_key, _claims(PARTNER[0], 1_000_000 + number,
                                                                    PARTNER[2][number % 4], unix, salt, digest)))
            else:
                certs.append(issue_certificate(own_key, _claims("640100", 1_000_000 + number,
                                                                OWN_COUNTIES[number % 6], unix, salt, digest)))
        rng.shuffle(certs)
        db.engine.dispose()
    trip_path, cert_path = workdir / "pairs-trip.tsv", workdir / "pairs-certificate.tsv"
    trip_path.write_text("".join(f"{t}\t{qr}\n" for t, qr in trip_pairs))
    cert_path.write_text("".join(f"{token}\t{qr}\n" for qr in certs))
    print(f"  {len(trip_pairs)} passengers with trip QRs → {trip_path}; {len(certs)} certificates (this deployment's "
          f"and {PARTNER[1]}'s) → {cert_path}")
    return trip_path, cert_path, token, certs


def probe_verify(server, token, certs, field):
    """Ask the route once per sample: (status, verdicts seen); a 404/405 means the route is not there."""
    seen, status = {}, None
    for qr in certs[:20]:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("POST", VERIFY_PATH, body=json.dumps({field: qr}),
                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        status, payload = response.status, response.read()
        conn.close()
        if status != 200:
            return status, payload.decode("utf-8", "replace")[:300]
        answer = json.loads(payload)
        key = f"{answer['verdict']}/{answer['reason']}"
        seen[key] = seen.get(key, 0) + 1
    return status, seen


def measure_verify(args, server, cert_path):
    """wrk with bench/certificate.lua against the verify route: its CERT_RESULT line, with errors summed."""
    output = scan_bench.run_wrk(args, server.base, args.duration, ROOT / "bench" / "certificate.lua",
                                [str(cert_path), args.field])
    line = next((line for line in output.splitlines() if line.startswith("CERT_RESULT ")), None)
    if line is None:
        raise SystemExit(f"bench/certificate.lua printed no result:\n{output}")
    result = json.loads(line[len("CERT_RESULT "):])
    result["errors"] = result["non2xx"] + result["connect"] + result["read"] + result["write"] + result["timeout"]
    return result


def measure_online(args):
    """Rebuild the database, start gunicorn, measure /healthz, trip scans and certificate checks in one run."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (or run with --offline-only)")
    scan_bench.DB_NAME = DB_NAME  # scan_bench's helpers read these at call time
    scan_bench.DATABASE_URL = scan_bench.DATABASE_URL.replace("/fangang_bench?", f"/{DB_NAME}?")
    env = scan_bench.bench_env(base64.urlsafe_b64encode(os.urandom(32)).decode())
    workdir = Path(tempfile.mkdtemp(prefix="fangang-certificate-bench-"))
    settings = scan_bench.server_settings()
    print(f"\nonline: preparing database {DB_NAME} (migrations, seed, keys) and Redis db 3 ...")
    started = time.perf_counter()
    scan_bench.recreate_database(env)
    trip_path, cert_path, token, certs = prepare_online(env, args, workdir)
    print(f"  prepared in {time.perf_counter() - started:.1f} s; gunicorn log in {workdir}")
    server = scan_bench.Gunicorn(env, args.workers, 1, scan_bench.free_port(set()), workdir / "gunicorn.log")
    results = {"settings": settings}
    try:
        server.wait_ready()
        scan_bench.run_wrk(args, server.base + "/healthz", 3)  # warm-up: imports and connections per worker
        status, seen = probe_verify(server, token, certs, args.field)
        print(f"  {VERIFY_PATH}: HTTP {status}, answers {seen}")
        phases = [("healthz", lambda: scan_bench.measure_healthz(args, server)),
                  ("trip scan", lambda: scan_bench.measure_scans(args, server, trip_path, "wrk-cert-bench"))]
        if status == 200:
            phases.append(("certificate verify", lambda: measure_verify(args, server, cert_path)))
        else:
            print("  the verify route is not there or refuses the bench's request: certificate checks not measured")
        for name, measure in phases:
            scan_bench.wait_for_quiet(args.wait_quiet)
            with scan_bench.CpuMeter(server) as cpu:
                result = measure()
            result["cpu"] = cpu.cores
            errors = result.get("errors", result.get("non2xx", 0) + result.get("socket_errors", 0))
            print(f"  {name:<19} {result['rps']:>7,.0f} req/s, p50 {result['p50_ms']:.1f} ms, "
                  f"p99 {result['p99_ms']:.1f} ms, errors {errors}; {cpu.text()}")
            results[name] = result
    except KeyboardInterrupt:
        print("\ninterrupted")
    finally:
        server.stop()
    return results


# --- main --------------------------------------------------------------------------------------------


def print_summary(args, offline, online):
    """The figures of both parts, one line each, under the host line."""
    print()
    print("=" * 96)
    print(f"SUMMARY  {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}  {scan_bench.machine()}  "
          f"commit {scan_bench.git_commit()}")
    print(f"offline, one core in process ({args.partners} partners, {args.revoked} revoked each):")
    for label, value in offline.items():
        if label not in ("id_match_ms", "others"):
            print(f"  {label:<48} {value[0]:>8,.0f} /s")
    print(f"  {'one ID match (scrypt), median':<48} {offline['id_match_ms'][0]:>8.1f} ms")
    print(f"  (other work on the machine meanwhile: {offline['others']:.2f} cores)")
    if online:
        settings = online["settings"]
        print(f"online: gunicorn {args.workers} sync workers, wrk -c{args.connections} -d{args.duration}s on the same "
              f"machine, MariaDB {settings['version']} (innodb_flush_log_at_trx_commit="
              f"{settings['innodb_flush_log_at_trx_commit']})")
        for name in ("healthz", "trip scan", "certificate verify"):
            if name in online:
                r = online[name]
                print(f"  {name:<48} {r['rps']:>8,.0f} req/s  p50 {r['p50_ms']:.1f} ms  p99 {r['p99_ms']:.1f} ms")
            else:
                print(f"  {name:<48}   not measured")
    print("=" * 96)


def main():
    """Run the benchmark; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline-only", action="store_true", help="only the in-process figures (no database)")
    parser.add_argument("--partners", type=int, default=3, help="partner deployments in the offline bundle")
    parser.add_argument("--revoked", type=int, default=2000, help="revoked serials per issuer in the offline bundle")
    parser.add_argument("--offline-certificates", type=int, default=3000, help="distinct certificates, offline")
    parser.add_argument("--rounds", type=int, default=5, help="offline rounds; the best counts")
    parser.add_argument("--id-matches", type=int, default=20)
    parser.add_argument("--certificates", type=int, default=6000,
                        help="certificates for the online checks (more than a worker's cache of 4,096)")
    parser.add_argument("--passengers", type=int, default=12000, help="passengers with a trip QR, online")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=20, help="seconds of each wrk run")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--field", default="qr", help="the verify body's field for the QR text (default qr)")
    parser.add_argument("--order", default="sequential", help=argparse.SUPPRESS)  # bench/scan.lua's order
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--wait-quiet", type=int, default=60,
                        help="wait up to this many seconds for other work to stop before each online phase")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    print(f"machine: {scan_bench.machine()}")
    busy, own, wall = scan_bench._busy_seconds(), time.process_time(), time.perf_counter()
    offline = measure_offline(args)
    wall = time.perf_counter() - wall
    others = max(0.0, (scan_bench._busy_seconds() - busy) - (time.process_time() - own)) / wall
    offline["others"] = others
    print(f"  other work on the machine meanwhile: {others:.2f} cores of {os.cpu_count()}"
          + (" (figures low: run again on a quiet machine)" if others > 0.5 else ""))
    online = None if args.offline_only else measure_online(args)
    print_summary(args, offline, online)
    return 0


if __name__ == "__main__":
    sys.exit(main())
