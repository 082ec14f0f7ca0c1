"""Another city (兰州市, 620100) as a checkpoint here meets it: its keys, its trust list saved to a file, its certificates.

No second app: the root and certificate keys are made here, the list is signed with
`trust_lists.sign_trust_list` and written to a file that `partners.add` imports pinned by the root
fingerprint (a list carried by hand, so its data is as old as its signature: signed 30 hours ago,
it is stale at once), and certificates are signed with `issue_certificate`, as the partner signs them.
"""
import base64
import json
import os
from datetime import UTC, timedelta

from app.models.base import utcnow
from app.services.credentials import credentials, partners, trust_lists
from app.services.credentials.health_certificate import CertificateClaims, id_hash, issue_certificate
from app.services.people.identity import mask_name
from app.services.platform.timeutil import iso_local

PARTNER_ID, PARTNER_NAME, PARTNER_COUNTY = "620100", "兰州市", "620102"


class PartnerCity:
    """A partner deployment: root and certificate keys, a signed list (with revoked serials), its certificates."""

    def __init__(self, folder, signed_hours_ago=1, revoked=()):
        self.root = credentials.generate_private_key()
        self.key = credentials.generate_private_key()
        self.fingerprint = trust_lists.fingerprint(credentials.public_key_bytes(self.root))
        self.signed_at = utcnow().replace(microsecond=0) - timedelta(hours=signed_hours_ago)
        self.revoked = list(revoked)
        self.path = folder / f"trust-list-{PARTNER_ID}.json"

    def save_list(self):
        """Sign the list as of `signed_at` and write it where `partners.add` reads it; returns the path."""
        public = credentials.public_key_bytes(self.key)
        body = {
            "deployment": {"id": PARTNER_ID, "name": PARTNER_NAME},
            "issued_at": iso_local(self.signed_at), "valid_until": iso_local(self.signed_at + timedelta(days=7)),
            "keys": [{"kid": credentials.key_id(public), "use": "certificate", "algorithm": "Ed25519",
                      "public_key": base64.b64encode(public).decode(), "counties": [PARTNER_COUNTY],
                      "valid_from": iso_local(self.signed_at - timedelta(days=1)), "retired_at": None}],
            "revocations": {"certificate": self.revoked},
        }
        self.path.write_text(json.dumps(trust_lists.sign_trust_list(body, self.root), ensure_ascii=False))
        return self.path

    def add(self):
        """Import the saved list here, as `flask trust add <file> <fingerprint>` does (needs an app context)."""
        return partners.add(str(self.save_list()), self.fingerprint)

    def certificate(self, id_number, name="王小明", serial=1, status="green"):
        """A certificate the partner signs for a worker leaving it, checked 36.4 ℃ three hours ago."""
        salt = os.urandom(8)
        issued = int((utcnow() - timedelta(hours=2)).replace(tzinfo=UTC).timestamp())
        claims = CertificateClaims(
            issuer=PARTNER_ID, serial=serial, county=PARTNER_COUNTY, issued_at=issued,
            valid_until=issued + 7 * 86400, name=mask_name(name), id_last4=id_number[-4:], id_salt=salt,
            id_hash=id_hash(id_number, name, salt), status=status, observation="completed", check_temperature=364,
            check_at=issued - 3600)
        return issue_certificate(self.key, claims)
