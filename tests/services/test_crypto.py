"""Field encryption and the blind index."""
import pytest
from cryptography.exceptions import InvalidTag

from app.crypto import FieldCipher, generate_key


def test_round_trip_and_no_plaintext_in_ciphertext():
    cipher = FieldCipher(generate_key())
    blob = cipher.encrypt("640104199001011234", "worker.id_number")
    assert b"640104199001011234" not in blob
    assert cipher.decrypt(blob, "worker.id_number") == "640104199001011234"


def test_same_value_encrypts_differently_each_time():
    cipher = FieldCipher(generate_key())
    assert cipher.encrypt("13912345678", "worker.mobile") != cipher.encrypt("13912345678", "worker.mobile")


def test_ciphertext_is_bound_to_its_column():
    cipher = FieldCipher(generate_key())
    blob = cipher.encrypt("13912345678", "worker.mobile")
    with pytest.raises(InvalidTag):
        cipher.decrypt(blob, "worker.id_number")


def test_another_key_cannot_decrypt():
    blob = FieldCipher(generate_key()).encrypt("13912345678", "worker.mobile")
    with pytest.raises(InvalidTag):
        FieldCipher(generate_key()).decrypt(blob, "worker.mobile")


def test_blind_index_is_stable_per_key_and_column():
    key = generate_key()
    one, two = FieldCipher(key), FieldCipher(key)
    assert one.blind_index("x", "worker.mobile") == two.blind_index("x", "worker.mobile")
    assert one.blind_index("x", "worker.mobile") != one.blind_index("x", "worker.id_number")
    assert one.blind_index("x", "worker.mobile") != FieldCipher(generate_key()).blind_index("x", "worker.mobile")


def test_short_key_is_refused():
    with pytest.raises(ValueError):
        FieldCipher("c2hvcnQ=")
