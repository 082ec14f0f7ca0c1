"""What a partner may speak for (互认): the counties confirmed at add, never ours or another partner's; and
refreshes that keep going when one partner's connection stalls or drops."""
import base64
import json
import socket
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors import Conflict, Invalid
from app.extensions import db
from app.models import TrustPartner
from app.models.base import utcnow
from app.services.credentials import credentials, partners, signing, trust, trust_lists
from app.services.platform.timeutil import iso_local
from tests.certificates.conftest import A_URL

SHANGHAI = "310100"


class City:
    """A third deployment (上海市) that exists only as the trust lists it signs."""

    def __init__(self):
        self.root, self.key = credentials.generate_private_key(), credentials.generate_private_key()

    def fingerprint(self):
        """The root fingerprint it gives out of band."""
        return trust_lists.fingerprint(credentials.public_key_bytes(self.root))

    def write(self, path, counties, issued=None):
        """Sign a list whose certificate key claims `counties`, issued at `issued` (naive UTC), into `path`."""
        issued = issued or utcnow()
        public = credentials.public_key_bytes(self.key)
        body = {"deployment": {"id": SHANGHAI, "name": "上海市"}, "issued_at": iso_local(issued),
                "valid_until": iso_local(issued + timedelta(days=7)),
                "keys": [{"kid": credentials.key_id(public), "use": "certificate", "algorithm": "Ed25519",
                          "public_key": base64.b64encode(public).decode(), "counties": list(counties),
                          "valid_from": iso_local(issued), "retired_at": None}],
                "revocations": {"certificate": []}}
        path.write_text(json.dumps(trust_lists.sign_trust_list(body, self.root)), encoding="utf-8")
        return str(path)


def _stored(deployment_id=SHANGHAI):
    return db.session.scalar(select(TrustPartner).where(TrustPartner.deployment_id == deployment_id))


def test_a_partner_may_not_claim_a_county_of_this_deployment(deployments, tmp_path):
    _, b = deployments  # B (兰州市) issues for 620102
    city = City()
    with b.ctx():
        with pytest.raises(Conflict) as refused:
            partners.add(city.write(tmp_path / "sh.json", ["310101", "620102"]), city.fingerprint())
        assert refused.value.code == "trust_list_county_taken" and "620102" in refused.value.message
        assert _stored() is None


def test_a_partner_may_not_claim_a_county_of_another_partner(deployments, published, tmp_path):
    a, b = deployments
    city = City()
    with b.ctx():
        partners.add(A_URL, a.fingerprint())
        with pytest.raises(Conflict) as refused:  # 640104 兴庆区 is 银川市's
            partners.add(city.write(tmp_path / "sh.json", ["310101", "640104"]), city.fingerprint())
        assert refused.value.code == "trust_list_county_taken" and "640100" in refused.value.message
        assert _stored() is None
        assert partners.add(city.write(tmp_path / "sh.json", ["310101"]), city.fingerprint()).counties == ["310101"]


def test_a_sync_may_not_widen_the_counties_confirmed_at_add(deployments, tmp_path):
    _, b = deployments
    city = City()
    start = utcnow() - timedelta(hours=3)
    with b.ctx():
        partners.add(city.write(tmp_path / "sh.json", ["310101", "310104"], issued=start), city.fingerprint())
        stored = _stored().document
        widened = city.write(tmp_path / "wider.json", ["310101", "310104", "310105"], issued=start + timedelta(hours=1))
        [result] = partners.sync(file=widened)
        assert (result["ok"], result["error"]) == (False, "trust_list_counties_widened")
        assert "310105" in result["message"]
        partner = _stored()
        assert partner.document == stored and partner.last_error.startswith("trust_list_counties_widened")
        [result] = partners.sync(file=city.write(tmp_path / "sh.json", ["310101"], issued=start + timedelta(hours=2)))
        assert result["ok"] is True and partners.status()[0]["counties"] == ["310101", "310104"]
        # A list that says more than was confirmed is never trusted for more, however it got stored.
        partner = _stored()
        partner.document = json.loads((tmp_path / "sh.json").read_text(encoding="utf-8"))
        partner.counties = ["310101", "620102"]  # 620102 is B's own
        partner.document["keys"][0]["counties"] = ["310101", "310105", "620102"]
        assert [key.counties for key in trust.partner_issuer(partner).keys] == [frozenset({"310101"})]
        db.session.rollback()
        # Removing and adding again is how an operator accepts the new county.
        partners.remove(SHANGHAI)
        assert partners.add(widened, city.fingerprint()).counties == ["310101", "310104", "310105"]


def test_flask_trust_shows_the_counties(deployments, tmp_path):
    _, b = deployments
    city = City()
    runner = b.app.test_cli_runner()
    added = runner.invoke(args=["trust", "add", city.write(tmp_path / "sh.json", ["310101", "310104"]),
                                "--fingerprint", city.fingerprint()])
    assert added.exit_code == 0, added.output
    assert "counties it may issue certificates for: 310101 310104" in added.output
    listed = runner.invoke(args=["trust", "list"])
    assert listed.exit_code == 0 and "    counties: 310101 310104" in listed.output
    taken = runner.invoke(args=["trust", "add", city.write(tmp_path / "again.json", ["620102"]),
                                "--fingerprint", city.fingerprint()])
    assert taken.exit_code != 0 and "partner_exists" in taken.output


def test_a_list_signed_in_the_future_is_refused_and_later_correct_lists_still_sync(deployments, published):
    a, b = deployments
    with b.ctx():
        partners.add(A_URL, a.fingerprint())
    with a.ctx():
        body = {name: value for name, value in trust.own_trust_list().items() if name not in ("signature", "root")}
        ahead = trust_lists.sign_trust_list({**body, "issued_at": iso_local(utcnow() + timedelta(days=2))},
                                            signing.private_key_of(signing.active_key("root")))
    published.replace("GET", A_URL, json=ahead)
    with b.ctx():
        [result] = partners.sync()
        assert (result["ok"], result["error"]) == (False, "trust_list_from_future")
    with a.ctx():
        current = trust.own_trust_list()
    published.replace("GET", A_URL, json=current)
    with b.ctx():
        [result] = partners.sync()
        assert result["ok"] is True


def test_a_source_longer_than_is_stored_is_refused_cleanly(deployments, published):
    a, b = deployments
    with b.ctx():
        with pytest.raises(Invalid) as refused:
            partners.add(A_URL + "?" + "x" * 600, a.fingerprint())
        assert refused.value.code == "trust_source_invalid"


class HalfAnswer:
    """A partner's server that sends the headers and part of the body, then stalls, hangs up or trickles."""

    def __init__(self, how):
        self.how, self.done = how, threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/api/checkin/v1/trust-list"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        connection, _ = self.listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n"
                               b'{"format": "fangang-trust-list", "keys": [')
            if self.how == "stalls":
                self.done.wait(30)  # until the test is over
            elif self.how == "trickles":  # a byte every 50 ms: no single read waits long
                for _ in range(200):
                    if self.done.wait(0.05):
                        break
                    connection.sendall(b" ")

    def close(self):
        """Let the server thread end."""
        self.done.set()
        self.thread.join(5)
        self.listener.close()


@pytest.mark.parametrize("how", ["stalls", "drops", "trickles"])
def test_a_partner_whose_connection_fails_mid_body_does_not_stop_the_others(deployments, published, tmp_path, how):
    a, b = deployments
    city, server = City(), HalfAnswer(how)
    published.add_passthru(server.url)
    b.app.config["TRUST_SYNC_TIMEOUT"] = 0.5
    try:
        with b.ctx():
            partners.add(A_URL, a.fingerprint())
            partners.add(city.write(tmp_path / "sh.json", ["310101"]), city.fingerprint())
            _stored().source = server.url  # 上海市 publishes from a server that fails mid-answer
            db.session.commit()
            before = _stored(a_id := "640100").last_attempt_at
            shanghai, yinchuan = partners.sync(now=utcnow() + timedelta(minutes=5))  # 310100 comes first
            assert (shanghai["ok"], shanghai["error"]) == (False, "trust_list_unreachable")
            assert ("Timeout" in shanghai["message"]) is (how != "drops")  # a trickle is cut at the deadline
            assert yinchuan["ok"] is True
        with b.ctx():  # what was committed
            assert _stored().last_error.startswith("trust_list_unreachable")
            assert _stored(a_id).last_attempt_at > before and _stored(a_id).last_error is None
    finally:
        server.close()


def test_each_partners_refresh_is_committed_before_the_next_is_tried(deployments, published, tmp_path,
                                                                     monkeypatch):
    a, b = deployments
    city = City()
    with b.ctx():
        partners.add(A_URL, a.fingerprint())
        partners.add(city.write(tmp_path / "sh.json", ["310101"], issued=utcnow() - timedelta(hours=2)),
                     city.fingerprint())
        before = _stored().synced_at
    city.write(tmp_path / "sh.json", ["310101"])
    read = partners._read

    def failing_for_yinchuan(source):
        if source == A_URL:
            raise RuntimeError("something no one foresaw")
        return read(source)

    monkeypatch.setattr(partners, "_read", failing_for_yinchuan)
    with b.ctx():
        with pytest.raises(RuntimeError):
            partners.sync()  # 310100 上海市 first, then 640100 银川市 fails
    with b.ctx():
        assert _stored().synced_at > before  # 上海市's refresh was kept
