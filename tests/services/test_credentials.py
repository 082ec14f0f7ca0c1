"""Trip credential: base45, issuing, offline verification and the QR image."""
import hashlib
import io
import struct

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from app.services.credentials.credentials import (
    PREFIX,
    CredentialPayload,
    TrustedKey,
    base45_decode,
    base45_encode,
    decode_credential,
    generate_private_key,
    issue_credential,
    key_id,
    private_key_from_bytes,
    private_key_to_bytes,
    public_key_bytes,
    render_qr_png,
    verify_credential,
)

QR_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
VALID_FROM = 1_582_000_000  # 2020-02-18, when the buses ran
VALID_UNTIL = VALID_FROM + 86_400
DURING = VALID_FROM + 3_600
FIELDS = dict(serial=7, trip_id=42, worker_id=1_001, valid_from=VALID_FROM, valid_until=VALID_UNTIL)
U32 = st.integers(min_value=0, max_value=0xFFFFFFFF)

# One issuing key for the module: key generation is cheap, but sharing it keeps
# hypothesis examples fast and the trust list obvious.
ISSUER = generate_private_key()
TRUSTED = [TrustedKey.from_public_key(public_key_bytes(ISSUER))]


def issue(private_key=ISSUER, **overrides):
    return issue_credential(private_key, **{**FIELDS, **overrides})


def verify(text, trusted=TRUSTED, **kwargs):
    kwargs.setdefault("now", DURING)
    return verify_credential(text, trusted, **kwargs)


def raw_bytes(text):
    return bytearray(base45_decode(text[len(PREFIX) :]))


def reencode(raw):
    return PREFIX + base45_encode(bytes(raw))


# --- base45 ----------------------------------------------------------------------

RFC_9285_EXAMPLES = [(b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"), (b"base-45", "UJCLQE7W581"), (b"ietf!", "QED8WEX0")]


@pytest.mark.parametrize("data, text", RFC_9285_EXAMPLES)
def test_base45_matches_rfc_9285_examples(data, text):
    assert base45_encode(data) == text
    assert base45_decode(text) == data


def test_base45_empty():
    assert base45_encode(b"") == ""
    assert base45_decode("") == b""


@given(st.binary(max_size=200))
def test_base45_round_trips_any_bytes(data):
    text = base45_encode(data)
    assert set(text) <= QR_ALPHANUMERIC
    assert base45_decode(text) == data


@pytest.mark.parametrize(
    "text",
    [
        "A",  # length 3n+1
        "BB8A",  # length 3n+1
        "GGW",  # 65536: one past the largest triple (RFC 9285 section 6)
        ":::",  # 44 + 44*45 + 44*2025
        "ZZ",  # final pair 35 + 35*45 > 255
        "bb8",  # lowercase is not in the alphabet
        "BB#",
        "BB\n",
        "BBé",
    ],
)
def test_base45_rejects_malformed_text(text):
    with pytest.raises(ValueError):
        base45_decode(text)


def test_base45_accepts_largest_values():
    assert base45_decode("FGW") == b"\xff\xff"  # 15 + 16*45 + 32*2025 = 65535
    assert base45_decode("U5") == b"\xff"  # 30 + 5*45 = 255


# --- keys ------------------------------------------------------------------------


def test_private_key_round_trips_through_raw_bytes():
    raw = private_key_to_bytes(ISSUER)
    assert len(raw) == 32
    assert public_key_bytes(private_key_from_bytes(raw)) == public_key_bytes(ISSUER)


def test_key_id_is_first_four_bytes_of_sha256():
    public = public_key_bytes(ISSUER)
    assert len(public) == 32
    assert key_id(public) == hashlib.sha256(public).hexdigest()[:8]
    assert TRUSTED[0].kid == key_id(public)


@pytest.mark.parametrize("kid, public", [("ABCDEF12", b"\x00" * 32), ("abc", b"\x00" * 32), ("abcdef12", b"\x00" * 31)])
def test_trusted_key_rejects_malformed_entries(kid, public):
    with pytest.raises(ValueError):
        TrustedKey(kid, public)


# --- issuing -----------------------------------------------------------------------


def test_issue_then_verify_round_trip():
    text = issue()
    result = verify(text)
    assert result.ok and result.reason is None
    assert result.payload == CredentialPayload(version=1, kid=TRUSTED[0].kid, **FIELDS)


def test_text_is_short_and_qr_alphanumeric():
    text = issue()
    assert text.startswith(PREFIX)
    assert set(text) <= QR_ALPHANUMERIC
    # 25-byte payload + 64-byte signature = 89 bytes: 44 triples and a pair.
    assert len(text) == len(PREFIX) + 134


def test_payload_holds_only_numbers():
    payload, signed, signature = decode_credential(issue())
    assert len(signed) == 25 and len(signature) == 64
    assert struct.unpack(">B4sIIIII", signed)[2:] == tuple(FIELDS.values())


@pytest.mark.parametrize(
    "overrides",
    [
        {"serial": -1},
        {"trip_id": 2**32},
        {"worker_id": "1001"},
        {"worker_id": True},
        {"valid_until": VALID_FROM - 1},
    ],
)
def test_issue_rejects_fields_that_do_not_fit(overrides):
    with pytest.raises(ValueError):
        issue(**overrides)


@settings(max_examples=60)
@given(serial=U32, trip_id=U32, worker_id=U32, window=st.tuples(U32, U32).map(sorted))
def test_any_u32_fields_round_trip(serial, trip_id, worker_id, window):
    valid_from, valid_until = window
    text = issue(serial=serial, trip_id=trip_id, worker_id=worker_id, valid_from=valid_from, valid_until=valid_until)
    payload, _, _ = decode_credential(text)
    assert (payload.serial, payload.trip_id, payload.worker_id) == (serial, trip_id, worker_id)
    assert (payload.valid_from, payload.valid_until) == (valid_from, valid_until)
    assert verify(text, now=valid_from).ok


# --- the QR image ------------------------------------------------------------------


def test_png_decodes_back_to_a_valid_credential():
    text = issue()
    png = render_qr_png(text)
    assert png.startswith(b"\x89PNG")
    (barcode,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert barcode.text == text
    assert barcode.ec_level == "M"
    assert int(barcode.extra["Version"]) <= 7
    assert verify(barcode.text).ok


def test_png_refuses_text_outside_qr_alphanumeric():
    with pytest.raises(ValueError):
        render_qr_png(issue().lower())


# --- refusals ----------------------------------------------------------------------


def test_accepts_lowercased_text_with_surrounding_whitespace():
    assert verify("  " + issue().lower() + "\r\n").ok


def test_every_flipped_bit_is_refused():
    raw = raw_bytes(issue())
    kid_bits = range(8, 40)  # bytes 1-4: a changed kid is simply not trusted
    for bit in range(len(raw) * 8):
        tampered = bytearray(raw)
        tampered[bit // 8] ^= 0x80 >> (bit % 8)
        result = verify(reencode(tampered))
        expected = "unknown_key" if bit in kid_bits else "invalid"
        assert (result.ok, result.reason, result.payload) == (False, expected, None), bit


def test_flipped_base45_character_is_refused():
    text = issue()
    position = len(PREFIX) + 80  # inside the signature
    replacement = "0" if text[position] != "0" else "1"
    result = verify(text[:position] + replacement + text[position + 1 :])
    assert (result.ok, result.reason, result.payload) == (False, "invalid", None)


@pytest.mark.parametrize("cut", [1, 2, 3, 60, 134])
def test_truncated_text_is_invalid(cut):
    assert verify(issue()[:-cut]).reason == "invalid"


def test_extra_bytes_are_invalid():
    assert verify(reencode(raw_bytes(issue()) + b"\x00")).reason == "invalid"


@pytest.mark.parametrize("prefix", ["", "FG2:", "XX1:", "FG1", "HC1:"])
def test_wrong_prefix_is_invalid(prefix):
    assert verify(prefix + issue()[len(PREFIX) :]).reason == "invalid"


def test_unknown_version_is_invalid_even_when_signed():
    payload = struct.pack(">B4sIIIII", 2, bytes.fromhex(TRUSTED[0].kid), *FIELDS.values())
    assert verify(reencode(payload + ISSUER.sign(payload))).reason == "invalid"


def test_foreign_key_is_unknown():
    result = verify(issue(generate_private_key()))
    assert (result.ok, result.reason, result.payload) == (False, "unknown_key", None)


def test_foreign_key_forging_a_trusted_kid_is_invalid():
    forger = generate_private_key()
    payload = struct.pack(">B4sIIIII", 1, bytes.fromhex(TRUSTED[0].kid), *FIELDS.values())
    result = verify(reencode(payload + forger.sign(payload)))
    assert (result.ok, result.reason, result.payload) == (False, "invalid", None)


def test_expired_keeps_the_payload():
    result = verify(issue(), now=VALID_UNTIL + 1)
    assert (result.ok, result.reason) == (False, "expired")
    assert result.payload.worker_id == FIELDS["worker_id"]


def test_not_yet_valid_keeps_the_payload():
    result = verify(issue(), now=VALID_FROM - 1)
    assert (result.ok, result.reason) == (False, "not_yet_valid")
    assert result.payload.serial == FIELDS["serial"]


def test_window_edges_are_inclusive():
    text = issue()
    assert verify(text, now=VALID_FROM).ok
    assert verify(text, now=VALID_UNTIL).ok


def test_revoked_serial_is_refused_before_time_checks():
    text = issue()
    result = verify(text, revoked_serials={FIELDS["serial"]})
    assert (result.ok, result.reason, result.payload.serial) == (False, "revoked", FIELDS["serial"])
    assert verify(text, revoked_serials={FIELDS["serial"]}, now=VALID_UNTIL + 1).reason == "revoked"
    assert verify(text, revoked_serials={FIELDS["serial"] + 1}).ok


def test_retired_key_stops_verifying_from_its_retirement():
    public = public_key_bytes(ISSUER)
    retired = [TrustedKey.from_public_key(public, valid_until=DURING - 1)]
    result = verify(issue(), trusted=retired)
    assert (result.ok, result.reason, result.payload) == (False, "unknown_key", None)
    retiring_later = [TrustedKey.from_public_key(public, valid_until=DURING + 1)]
    assert verify(issue(), trusted=retiring_later).ok


def test_trust_list_as_mapping_and_with_rotated_keys():
    new_key = generate_private_key()
    keys = TRUSTED + [TrustedKey.from_public_key(public_key_bytes(new_key))]
    by_kid = {key.kid: key for key in keys}
    for trusted in (keys, by_kid):
        assert verify(issue(), trusted=trusted).ok
        assert verify(issue(new_key), trusted=trusted).ok
    assert verify(issue(new_key), trusted={}).reason == "unknown_key"


def test_now_defaults_to_the_current_time():
    assert verify_credential(issue(), TRUSTED).reason == "expired"


@pytest.mark.parametrize("text", [None, 123, b"FG1:", ["FG1:"], "", "   ", PREFIX, PREFIX.lower()])
def test_non_text_and_empty_input_is_invalid(text):
    result = verify(text)
    assert (result.ok, result.reason, result.payload) == (False, "invalid", None)


def test_decode_raises_value_error_for_non_text():
    with pytest.raises(ValueError):
        decode_credential(None)


@given(st.text())
def test_verify_never_raises_on_random_text(text):
    assert verify(text).reason in {"invalid", "unknown_key"}


@given(st.text(alphabet=sorted(QR_ALPHANUMERIC), max_size=150))
def test_verify_never_raises_on_random_prefixed_base45(body):
    assert not verify(PREFIX + body).ok


@given(st.binary(min_size=85, max_size=95))
def test_verify_never_raises_on_random_credential_bytes(raw):
    assert verify(reencode(raw)).reason in {"invalid", "unknown_key"}
