"""Reference offline verifier: decide a scan from an offline bundle, with no server.

    python -m checkin.offline BUNDLE.json QRTEXT [--kind board] [--temperature 36.5]
        [--symptoms cough,fever] [--at 2020-02-24T08:00:00+08:00] [--boarded 12,15] [--arrived 12]
        [--id-number 640104199001011234 --name 张三] --keys KEYS.json

QRTEXT is a trip QR ("FG1:") or a health certificate ("FGC1:", 健康证明, this deployment's or a
partner's). Prints the decision as JSON; exits 0 for allow / accept, 1 for deny / reject, 2 for
isolate, 3 when the bundle's signature does not hold or a file is not a bundle / trust list (the
JSON printed says which), 4 for recheck (复核: a certificate that is genuine but whose issuer's
trust data is stale, or whose status was not green — a person looks). --id-number with --name matches
a certificate's holder against the ID card (its hash covers both); --kind, --temperature and the rest are for trip QRs.
Uses only the pure rule modules, as a phone would.
"""
import argparse
import base64
import json
import sys
from datetime import datetime

from app.services.platform.timeutil import LOCAL_ZONE
from app.services.credentials.health_certificate import PREFIX as CERTIFICATE_PREFIX
from app.services.credentials.health_certificate import answer as certificate_answer
from app.services.scanning.bundles import decide_certificate_offline, decide_offline, verify_bundle

EXIT_CODES = {"allow": 0, "deny": 1, "isolate": 2}
CERTIFICATE_EXIT_CODES = {"accept": 0, "reject": 1, "recheck": 4}


def _moment(text):
    """A scan time: ISO 8601; naive means Beijing time, as everywhere in the API (not this machine's zone)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_ZONE)


def _serials(text):
    return {int(part) for part in text.split(",") if part.strip()} if text else set()


class _NotUsable(Exception):
    """A file given to the verifier is not what it should be; code says how."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def _load(path, what, required):
    """Read a JSON file that should be a bundle or a trust list, saying what it is when it is not."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as error:
        raise _NotUsable("file_unreadable", f"无法读取{what}文件 {path}：{error.strerror}") from None
    except ValueError:
        raise _NotUsable("not_json", f"{what}文件 {path} 不是 JSON") from None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        # A download that failed (expired token, wrong trip…) saved the server's error answer.
        error = data["error"]
        raise _NotUsable("server_error_saved", f"{what}文件 {path} 是服务器的错误回答，不是{what}："
                                               f"{error.get('code')} {error.get('message')}")
    missing = [name for name in required if not isinstance(data, dict) or name not in data]
    if missing:
        raise _NotUsable("not_a_" + ("bundle" if what == "离线包" else "trust_list"),
                         f"{what}文件 {path} 不是{what}：缺少 {'、'.join(missing)}")
    return data


def _pinned_keys(trust_list):
    """{kid: raw key} of the keys in use; a trust list saved before 2026-12 says valid_until for retired_at."""
    return {key["kid"]: base64.b64decode(key["public_key"]) for key in trust_list["keys"]
            if not (key.get("retired_at") or key.get("valid_until"))}


def main(argv=None):
    """Run the verifier; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m checkin.offline", description=__doc__.splitlines()[0])
    parser.add_argument("bundle")
    parser.add_argument("qr")
    parser.add_argument("--kind", default="board", choices=("board", "arrive", "checkpoint"))
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--symptoms", default="")
    parser.add_argument("--at", type=_moment, default=None,
                        help="scan time, ISO 8601, any offset; without one it means Beijing time, as in the API")
    parser.add_argument("--boarded", default="", help="serials this device boarded since downloading")
    parser.add_argument("--arrived", default="", help="serials this device landed since downloading")
    parser.add_argument("--id-number", default=None,
                        help="the number on the holder's ID card, matched with --name against a certificate (never printed)")
    parser.add_argument("--name", default=None, help="the full name on the holder's ID card (with --id-number)")
    parser.add_argument("--keys", required=True,
                        help="trust list saved from GET /api/checkin/v1/keys: the bundle must be signed by one of them")
    args = parser.parse_args(argv)
    if (args.id_number is None) != (args.name is None):
        parser.error("--id-number and --name go together: the certificate's hash covers both")
    try:
        bundle = _load(args.bundle, "离线包", ("manifest", "keys", "trip", "signature"))
        pinned = _pinned_keys(_load(args.keys, "公钥列表", ("keys",)))
    except _NotUsable as error:
        print(json.dumps({"error": error.code, "message": str(error)}, ensure_ascii=False))
        return 3
    if not verify_bundle(bundle, pinned):
        print(json.dumps({"error": "bundle_signature_invalid", "message": "离线包签名无效"}, ensure_ascii=False))
        return 3
    if args.qr.strip().upper().startswith(CERTIFICATE_PREFIX):
        return _certificate(bundle, args)
    symptoms = [code for code in args.symptoms.split(",") if code]
    decision, entry = decide_offline(bundle, args.qr, args.kind, args.temperature, symptoms, args.at,
                                     _serials(args.boarded), _serials(args.arrived))
    passenger = None if entry is None else {"name": entry["name"], "id_last4": entry["id_last4"],
                                            "seat": entry["seat_no"], "trip": bundle["trip"]["id"]}
    print(json.dumps({"verdict": decision.verdict, "reason": decision.reason, "message": decision.message,
                      "passenger": passenger}, ensure_ascii=False))
    return EXIT_CODES[decision.verdict]


def _certificate(bundle, args):
    """Decide a health certificate from the bundle's issuers; print it as the verify route answers; the exit code."""
    verification = decide_certificate_offline(bundle, args.qr, args.at, args.id_number, name=args.name)
    stale_after = (bundle.get("certificates") or {}).get("trust_stale_after_hours")
    answer = certificate_answer(verification, stale_after, id_checked=args.id_number is not None)
    print(json.dumps(answer, ensure_ascii=False))
    return CERTIFICATE_EXIT_CODES[verification.verdict]


if __name__ == "__main__":
    sys.exit(main())
