"""docs/credential.md says what the code does: its test vectors are re-verified here, its layout re-derived."""
import base64
import json
import pathlib
import re
import struct
from dataclasses import asdict
from datetime import datetime

import pytest

from app.services.credentials import credentials

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "credential.md"
TEST_SEED = bytes(range(32))


def _doc():
    return DOC.read_text(encoding="utf-8")


def _vectors():
    block = re.search(r"<!-- credential-vectors:[^\n]*-->\n```json\n(.*?)\n```", _doc(), re.S)
    assert block, "docs/credential.md lost its vectors block"
    return json.loads(block.group(1))


def _unix(text):
    return int(datetime.fromisoformat(text).timestamp())


def _trusted(keys):
    return [credentials.TrustedKey(kid=key["kid"], public_key=base64.b64decode(key["public_key"]),
                                   valid_until=_unix(key["retired_at"]) if key["retired_at"] else None)
            for key in keys]


@pytest.mark.parametrize("vector", _vectors(), ids=lambda vector: vector["name"])
def test_vector_verdict_and_fields_are_what_the_code_decides(vector):
    for text in (vector["now"],):
        assert datetime.fromisoformat(text).utcoffset() is not None  # a vector's clock is unambiguous
    result = credentials.verify_credential(vector["qr"], _trusted(vector["keys"]), set(vector["revoked"]),
                                           now=_unix(vector["now"]))
    assert (result.reason or "ok") == vector["verdict"]
    assert (asdict(result.payload) if result.payload else None) == vector["payload"]


def test_vectors_cover_valid_expired_tampered_and_both_window_ends():
    by_name = {vector["name"]: vector for vector in _vectors()}
    assert {"valid", "expired", "tampered", "first_valid_second", "last_valid_second", "not_yet_valid"} <= set(by_name)
    valid = by_name["valid"]["payload"]
    assert _unix(by_name["first_valid_second"]["now"]) == valid["valid_from"]
    assert _unix(by_name["last_valid_second"]["now"]) == valid["valid_until"]
    assert _unix(by_name["expired"]["now"]) == valid["valid_until"] + 1


def test_valid_vector_is_what_the_test_key_signs_today():
    key = credentials.private_key_from_bytes(TEST_SEED)
    valid = next(vector for vector in _vectors() if vector["name"] == "valid")
    fields = {name: valid["payload"][name] for name in ("serial", "trip_id", "worker_id", "valid_from", "valid_until")}
    assert credentials.issue_credential(key, **fields) == valid["qr"]
    public = credentials.public_key_bytes(key)
    assert valid["keys"][0] == {"kid": credentials.key_id(public), "public_key": base64.b64encode(public).decode(),
                                "retired_at": None}
    doc = _doc()
    assert public.hex() in doc and TEST_SEED.hex() in doc


def test_byte_layout_in_the_doc_matches_the_bytes():
    valid = next(vector for vector in _vectors() if vector["name"] == "valid")
    raw = credentials.base45_decode(valid["qr"][len(credentials.PREFIX):])
    assert len(raw) == 89 and len(valid["qr"]) == 138
    payload, signature = raw[:25], raw[25:]
    fields = valid["payload"]
    # The doc's table: >B 4s I I I I I, big-endian.
    assert payload == struct.pack(">B4sIIIII", 1, bytes.fromhex(fields["kid"]), fields["serial"], fields["trip_id"],
                                  fields["worker_id"], fields["valid_from"], fields["valid_until"])
    doc = _doc()
    assert signature.hex() in doc
    hex_groups = re.search(r"`01` `([0-9a-f]{8})` `([0-9a-f]{8})` `([0-9a-f]{8})` `([0-9a-f]{8})` `([0-9a-f]{8})` "
                           r"`([0-9a-f]{8})`", doc)
    assert hex_groups and "01" + "".join(hex_groups.groups()) == payload.hex()
    public = credentials.public_key_bytes(credentials.private_key_from_bytes(TEST_SEED))
    assert credentials.verify_signature(public, payload, signature)


def test_trust_list_example_has_the_fields_keys_answers(client):
    from app.services.credentials import signing

    signing.ensure_key()
    served = client.get("/api/checkin/v1/keys").json
    example = json.loads(re.search(r"publishes every key that signs or signed:\n\n```json\n(.*?)\n```", _doc(),
                                   re.S).group(1))
    assert set(example) == set(served) and set(example["keys"][0]) == set(served["keys"][0])
