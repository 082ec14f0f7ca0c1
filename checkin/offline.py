"""Reference offline verifier: decide a scan from an offline bundle, with no server.

    python -m checkin.offline BUNDLE.json QRTEXT [--kind board] [--temperature 36.5]
        [--symptoms cough,fever] [--at 2020-02-24T08:00:00+08:00] [--boarded 12,15] [--arrived 12]
        --keys KEYS.json

Prints the decision as JSON; exits 0 for allow, 1 for deny, 2 for isolate, 3 when the
bundle's signature does not hold. Uses only the pure rule modules, as a phone would.
"""
import argparse
import base64
import json
import sys
from datetime import datetime

from app.services.bundles import decide_offline, verify_bundle

EXIT_CODES = {"allow": 0, "deny": 1, "isolate": 2}


def _serials(text):
    return {int(part) for part in text.split(",") if part.strip()} if text else set()


def main(argv=None):
    """Run the verifier; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m checkin.offline", description=__doc__.splitlines()[0])
    parser.add_argument("bundle")
    parser.add_argument("qr")
    parser.add_argument("--kind", default="board", choices=("board", "arrive", "checkpoint"))
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--symptoms", default="")
    parser.add_argument("--at", type=datetime.fromisoformat, default=None, help="scan time, ISO 8601 with offset")
    parser.add_argument("--boarded", default="", help="serials this device boarded since downloading")
    parser.add_argument("--arrived", default="", help="serials this device landed since downloading")
    parser.add_argument("--keys", required=True,
                        help="trust list saved from GET /api/checkin/v1/keys: the bundle must be signed by one of them")
    args = parser.parse_args(argv)
    with open(args.bundle, encoding="utf-8") as handle:
        bundle = json.load(handle)
    # The bundle carries keys, but trusting those would let anyone re-sign a bundle with their own.
    with open(args.keys, encoding="utf-8") as handle:
        pinned = {key["kid"]: base64.b64decode(key["public_key"]) for key in json.load(handle)["keys"]
                  if not key.get("valid_until")}
    if not verify_bundle(bundle, pinned):
        print(json.dumps({"error": "bundle_signature_invalid", "message": "离线包签名无效"}, ensure_ascii=False))
        return 3
    symptoms = [code for code in args.symptoms.split(",") if code]
    decision, entry = decide_offline(bundle, args.qr, args.kind, args.temperature, symptoms, args.at,
                                     _serials(args.boarded), _serials(args.arrived))
    passenger = None if entry is None else {"name": entry["name"], "id_last4": entry["id_last4"],
                                            "seat": entry["seat_no"], "trip": bundle["trip"]["id"]}
    print(json.dumps({"verdict": decision.verdict, "reason": decision.reason, "message": decision.message,
                      "passenger": passenger}, ensure_ascii=False))
    return EXIT_CODES[decision.verdict]


if __name__ == "__main__":
    sys.exit(main())
