"""A partner deployment's trust list for console tests: 兰州市 (620100), signed with fixed test keys at a given time."""
import json
from datetime import timedelta

from app.models.base import utcnow
from app.services.credentials import trust_lists
from app.services.platform.timeutil import iso_local
from tests.certificate_vectors import CERTIFICATE_SEED, STRANGER_SEED, TRIP_SEED, _entry, key

PARTNER_ID, PARTNER_NAME = "620100", "兰州市"
PARTNER_URL = "https://lanzhou.example/api/checkin/v1/trust-list"
ROOT_SEED = bytes(range(0x80, 0xA0))  # the partner's root key: 80 81 … 9f


def partner_list(issued=None, revoked=(), deployment_id=PARTNER_ID, root_seed=ROOT_SEED):
    """The partner's signed list as its /trust-list publishes one, issued `issued` (default now), valid 7 days."""
    issued = (issued or utcnow()).replace(microsecond=0)
    counties = ["620102", "620103"]
    body = {"deployment": {"id": deployment_id, "name": PARTNER_NAME}, "issued_at": iso_local(issued),
            "valid_until": iso_local(issued + timedelta(days=7)),
            "keys": [_entry(TRIP_SEED, "trip", counties), _entry(CERTIFICATE_SEED, "certificate", counties)],
            "revocations": {"certificate": list(revoked)}}
    return trust_lists.sign_trust_list(body, key(root_seed))


def partner_file(**options):
    """The partner's list as the bytes of a file carried by hand."""
    return json.dumps(partner_list(**options), ensure_ascii=False).encode("utf-8")


def partner_fingerprint(root_seed=ROOT_SEED, spaced=False):
    """The fingerprint the partner gives by phone; spaced: in groups of four, as it is read aloud."""
    from app.services.credentials import credentials

    found = trust_lists.fingerprint(credentials.public_key_bytes(key(root_seed)))
    return " ".join(found[start:start + 4] for start in range(0, 64, 4)) if spaced else found


STRANGER_ROOT = STRANGER_SEED
