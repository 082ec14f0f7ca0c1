"""Trust lists between deployments: signed by a root key, imported only against its pinned fingerprint (pure)."""
import base64
import copy

import pytest

from app.services.credentials import credentials, trust_lists
from app.services.credentials.trust_lists import TrustListError

NOW = 1_800_000_000


def _list(root, certificate_key, **changes):
    public = credentials.public_key_bytes(certificate_key)
    body = {
        "deployment": {"id": "610100", "name": "西安市"},
        "issued_at": "2027-01-15T08:00:00+08:00",
        "valid_until": "2027-01-22T08:00:00+08:00",
        "keys": [{"kid": credentials.key_id(public), "use": "certificate", "algorithm": "Ed25519",
                  "public_key": base64.b64encode(public).decode(), "counties": ["610102"],
                  "valid_from": "2027-01-01T00:00:00+08:00", "retired_at": None}],
        "revocations": {"certificate": [3, 5]},
        **changes,
    }
    return trust_lists.sign_trust_list(body, root)


def _pin(root):
    return trust_lists.fingerprint(credentials.public_key_bytes(root))


def _at(text):
    return trust_lists._unix(text)


def test_a_list_verifies_against_its_pin_and_describes_the_issuer():
    root, key = credentials.generate_private_key(), credentials.generate_private_key()
    document = _list(root, key)
    assert document["root"]["fingerprint"] == _pin(root)
    now = _at("2027-01-16T00:00:00+08:00")
    assert trust_lists.verify_trust_list(document, _pin(root).upper(), now) is document
    issuer = trust_lists.issuer_from_list(document, synced_at=now)
    assert (issuer.deployment_id, issuer.name, issuer.revoked, issuer.synced_at) == ("610100", "西安市",
                                                                                      frozenset({3, 5}), now)
    (only,) = issuer.keys
    assert (only.use, only.counties, only.public_key) == ("certificate", frozenset({"610102"}),
                                                           credentials.public_key_bytes(key))


def test_a_list_signed_by_another_root_is_refused_even_when_it_carries_the_pinned_key():
    root, impostor, key = (credentials.generate_private_key() for _ in range(3))
    forged = _list(impostor, key)
    now = _at("2027-01-16T00:00:00+08:00")
    with pytest.raises(TrustListError) as refused:
        trust_lists.verify_trust_list(forged, _pin(root), now)
    assert refused.value.code == "fingerprint_mismatch"
    # Claiming the real root's public key without its private half: the signature does not hold.
    forged["root"] = {**forged["root"], "public_key": base64.b64encode(credentials.public_key_bytes(root)).decode()}
    with pytest.raises(TrustListError) as refused:
        trust_lists.verify_trust_list(forged, _pin(root), now)
    assert refused.value.code == "signature_invalid"


@pytest.mark.parametrize("tamper", [
    lambda doc: doc["keys"][0].update(counties=["610102", "640104"]),
    lambda doc: doc["revocations"].update(certificate=[]),
    lambda doc: doc.update(valid_until="2030-01-01T00:00:00+08:00"),
    lambda doc: doc["deployment"].update(name="银川市"),
])
def test_any_change_to_a_signed_list_breaks_it(tamper):
    root, key = credentials.generate_private_key(), credentials.generate_private_key()
    document = copy.deepcopy(_list(root, key))
    tamper(document)
    with pytest.raises(TrustListError) as refused:
        trust_lists.verify_trust_list(document, _pin(root), _at("2027-01-16T00:00:00+08:00"))
    assert refused.value.code == "signature_invalid"


def test_an_expired_list_is_refused_so_an_old_one_cannot_be_replayed():
    root, key = credentials.generate_private_key(), credentials.generate_private_key()
    with pytest.raises(TrustListError) as refused:
        trust_lists.verify_trust_list(_list(root, key), _pin(root), _at("2027-01-23T00:00:00+08:00"))
    assert refused.value.code == "list_expired"


@pytest.mark.parametrize("document", [None, [], {}, {"format": "fangang-trust-list"}, {"error": {"code": "x"}}])
def test_what_is_not_a_list_says_so(document):
    with pytest.raises(TrustListError) as refused:
        trust_lists.verify_trust_list(document, "0" * 64, NOW)
    assert refused.value.code == "not_a_trust_list"


def test_a_signed_list_with_a_malformed_key_entry_is_not_a_list():
    root, key = credentials.generate_private_key(), credentials.generate_private_key()
    document = _list(root, key, keys=[{"kid": "xyz", "use": "certificate", "algorithm": "Ed25519",
                                       "public_key": "AAAA", "counties": []}])
    with pytest.raises(TrustListError) as refused:
        trust_lists.verify_trust_list(document, _pin(root), _at("2027-01-16T00:00:00+08:00"))
    assert refused.value.code == "not_a_trust_list"


def test_fingerprints_are_typed_in_many_ways():
    pin = "ab" * 32
    assert trust_lists.normal_fingerprint("AB:" * 31 + "AB") == pin
    assert trust_lists.normal_fingerprint(" ".join(["abab"] * 16)) == pin
    for wrong in ("ab" * 31, "zz" * 32, ""):
        with pytest.raises(ValueError):
            trust_lists.normal_fingerprint(wrong)


def test_a_list_issued_in_the_future_is_refused_beyond_a_little_clock_skew():
    # Stored, it would make every later correct list look older (trust_list_older) until that time passed.
    root, key = credentials.generate_private_key(), credentials.generate_private_key()
    document = _list(root, key)
    with pytest.raises(TrustListError) as refused:
        trust_lists.verify_trust_list(document, _pin(root), _at("2027-01-15T07:50:00+08:00"))
    assert refused.value.code == "list_from_future"
    assert trust_lists.verify_trust_list(document, _pin(root), _at("2027-01-15T07:58:00+08:00")) == document


def _key_entry(key, **changes):
    public = credentials.public_key_bytes(key)
    return {"kid": credentials.key_id(public), "use": "certificate", "algorithm": "Ed25519",
            "public_key": base64.b64encode(public).decode(), "counties": ["610102"], **changes}


@pytest.mark.parametrize("changes", [
    {"keys": "counties as one string"},
    {"deployment": {"id": "6" * 33, "name": "西安市"}},
    {"deployment": {"id": "", "name": "西安市"}},
    {"deployment": {"id": 610100, "name": "西安市"}},
    {"deployment": {"id": "610100", "name": "西" * 65}},
    {"deployment": "610100"},
    {"revocations": [3, 5]},
    {"issued_at": "yesterday"},
], ids=["county-string", "long-id", "empty-id", "numeric-id", "long-name", "no-block", "revocations-list",
        "issued-at"])
def test_fields_that_do_not_fit_what_is_stored_are_not_a_list(changes):
    root, key = credentials.generate_private_key(), credentials.generate_private_key()
    if changes.get("keys") == "counties as one string":  # would otherwise become {"6", "1", "0", "2"}
        changes = {"keys": [_key_entry(key, counties="610102")]}
    document = _list(root, key, **changes)
    with pytest.raises(TrustListError) as refused:
        trust_lists.verify_trust_list(document, _pin(root), _at("2027-01-16T00:00:00+08:00"))
    assert refused.value.code == "not_a_trust_list"


def test_the_longest_identity_that_fits_is_a_list():
    root, key = credentials.generate_private_key(), credentials.generate_private_key()
    document = _list(root, key, deployment={"id": "6" * 32, "name": "西" * 64})
    assert trust_lists.verify_trust_list(document, _pin(root), _at("2027-01-16T00:00:00+08:00")) == document
    assert trust_lists.counties_of(document) == ["610102"]


def test_every_refusal_has_one_message_and_a_public_code():
    import ast
    import inspect

    from app.services.credentials import partners

    tree = ast.parse(inspect.getsource(trust_lists))
    raised = {node.args[0].value for node in ast.walk(tree) if isinstance(node, ast.Call)
              and getattr(node.func, "id", None) == "TrustListError" and isinstance(node.args[0], ast.Constant)}
    assert raised == set(trust_lists.MESSAGES) == set(partners._REFUSED)
