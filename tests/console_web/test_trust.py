"""互认城市 page: this deployment's id, counties, fingerprint in groups of four, its list URL and file; partners with the
age of their data (需同步 / 已过期); add from a URL or an uploaded file pinned by the fingerprint, 立即同步, 上传列表文件,
移除, each audited with the admin as actor; health officers read only; other roles 403; CSRF."""
import io
import json
from datetime import timedelta

import pytest
import responses
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, StaffUser, TrustPartner
from app.models.base import utcnow
from app.services.credentials import signing, trust, trust_lists
from tests.console_web.helpers import make_web_staff
from tests.console_web.trust_helpers import (PARTNER_ID, PARTNER_URL, STRANGER_ROOT, partner_file, partner_fingerprint,
                                             partner_list)

PAGE = "/console/trust"
ADD = "/console/trust/partners"
PARTNER = f"/console/trust/partners/{PARTNER_ID}"


@pytest.fixture
def admin(client):
    signing.ensure_key("root")
    return make_web_staff(client, "office", role="admin")


def _upload(content, name="lanzhou-trust-list.json"):
    return (io.BytesIO(content), name)


def _add_file(client, token, fingerprint=None, **options):
    return client.post(ADD, data={"csrf_token": token, "fingerprint": fingerprint or partner_fingerprint(spaced=True),
                                  "file": _upload(partner_file(**options))}, content_type="multipart/form-data")


def _partner():
    db.session.expire_all()
    return db.session.scalar(select(TrustPartner).where(TrustPartner.deployment_id == PARTNER_ID))


def _audit(action):
    return db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()


def _admin_id():
    return db.session.scalar(select(StaffUser.id).where(StaffUser.username == "office"))


def test_the_page_shows_this_deployment_for_reading_aloud_and_its_list(client, admin):
    html = client.get(PAGE).text
    fingerprint = trust.root_fingerprint()
    spoken = "".join("<div>" + " ".join(f"<span>{fingerprint[at:at + 4]}</span>" for at in range(line, line + 16, 4))
                     + "</div>" for line in range(0, 64, 16))
    assert spoken in html and "640100" in html and "银川市" in html and "永宁县" in html
    assert "http://localhost/api/checkin/v1/trust-list" in html and "尚未添加互认城市" in html
    download = client.get("/console/trust/list.json")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    document = json.loads(download.data)
    now = int(utcnow().timestamp())
    assert trust_lists.verify_trust_list(document, fingerprint, now)["deployment"]["id"] == "640100"


def test_without_a_root_key_the_page_says_so(client):
    make_web_staff(client, "office", role="admin")
    html = client.get(PAGE).text
    assert "尚未生成根密钥" in html and 'data-testid="download"' not in html
    download = client.get("/console/trust/list.json")
    assert download.status_code == 302 and download.headers["Location"] == PAGE
    assert "无法下载" in client.get(PAGE).text


def test_admin_adds_a_partner_from_a_file_and_refreshes_it_by_upload(client, admin):
    added = _add_file(client, admin)
    assert added.status_code == 302 and added.headers["Location"] == PAGE
    html = client.get(PAGE).text
    assert "已添加互认城市 兰州市（620100）" in html and "上传的文件" in html and "正常" in html
    assert partner_fingerprint()[:4] in html and "证明 1 · 撤销 0" in html
    assert _partner().source == "upload"
    assert [(row.actor_kind, row.actor_id) for row in _audit("trust.add")] == [("staff", _admin_id())]

    newer = partner_file(issued=utcnow() + timedelta(minutes=2), revoked=[41])  # within the clock skew allowed
    synced = client.post(f"{PARTNER}/upload", data={"csrf_token": admin, "file": _upload(newer)},
                         content_type="multipart/form-data")
    assert synced.status_code == 302 and "已同步 兰州市" in client.get(PAGE).text
    assert _partner().document["revocations"]["certificate"] == [41]
    # The nightly `flask trust sync` of every partner leaves an uploaded one alone: nothing to fetch, no error.
    from app.services.credentials import partners
    assert partners.sync() == [] and _partner().last_error is None
    # An uploaded partner has no address to fetch: its row has no 立即同步, and a sync posted anyway says so.
    assert "立即同步" not in client.get(PAGE).text
    now = client.post(f"{PARTNER}/sync", data={"csrf_token": admin})
    assert now.status_code == 302
    html = client.get(PAGE).text
    assert "未更新，仍使用已导入的列表" in html and "请上传新的列表文件" in html
    assert _partner().document["revocations"]["certificate"] == [41] and _partner().last_error
    assert [row.actor_kind for row in _audit("trust.sync")] == ["staff", "staff"]
    # Another city's list uploaded for this partner is refused, and so is no file at all.
    other = partner_file(issued=utcnow() + timedelta(minutes=4), deployment_id="610100")
    wrong = client.post(f"{PARTNER}/upload", data={"csrf_token": admin, "file": _upload(other)},
                        content_type="multipart/form-data")
    assert wrong.status_code == 302 and "不是 620100" in client.get(PAGE).text
    empty = client.post(f"{PARTNER}/upload", data={"csrf_token": admin}, content_type="multipart/form-data")
    assert empty.status_code == 422 and "请选择信任列表文件" in empty.text
    garbage = client.post(f"{PARTNER}/upload", data={"csrf_token": admin, "file": _upload(b"{not json")},
                          content_type="multipart/form-data")
    assert garbage.status_code == 422 and "不是 JSON" in garbage.text


def test_a_list_that_does_not_match_the_fingerprint_is_refused(client, admin):
    typed = partner_fingerprint(STRANGER_ROOT)
    refused = _add_file(client, admin, fingerprint=typed)
    assert refused.status_code == 422 and "未添加：信任列表的根密钥指纹与给定的不符，拒绝导入" in refused.text
    assert f'value="{typed}"' in refused.text and _partner() is None
    malformed = _add_file(client, admin, fingerprint="abc")
    assert malformed.status_code == 422 and "64 位十六进制" in malformed.text
    again = _add_file(client, admin)
    assert again.status_code == 302
    twice = _add_file(client, admin)
    assert twice.status_code == 409 and "已导入部署 620100" in twice.text
    own = client.post(ADD, data={"csrf_token": admin, "fingerprint": trust.root_fingerprint(),
                                 "file": _upload(json.dumps(trust.own_trust_list()).encode())},
                      content_type="multipart/form-data")
    assert own.status_code == 409 and "本部署自己的信任列表" in own.text


def test_admin_adds_by_url_and_syncs_now(client, admin):
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, PARTNER_URL, json=partner_list())
        added = client.post(ADD, data={"csrf_token": admin, "source": PARTNER_URL,
                                       "fingerprint": partner_fingerprint()})
        assert added.status_code == 302 and _partner().source == PARTNER_URL
        assert "立即同步" in client.get(PAGE).text  # a partner with an address can be fetched now
        mock.replace(responses.GET, PARTNER_URL, json=partner_list(issued=utcnow() + timedelta(minutes=1), revoked=[7]))
        synced = client.post(f"{PARTNER}/sync", data={"csrf_token": admin})
        assert synced.status_code == 302 and "已同步 兰州市（620100）" in client.get(PAGE).text
        assert _partner().document["revocations"]["certificate"] == [7]
        mock.replace(responses.GET, PARTNER_URL, status=502)
        failed = client.post(f"{PARTNER}/sync", data={"csrf_token": admin})
        assert failed.status_code == 302
        html = client.get(PAGE).text
        assert "兰州市 未更新，仍使用已导入的列表：无法获取信任列表" in html and 'data-error="trust_list_unreachable"' in html
        assert _partner().document["revocations"]["certificate"] == [7]
    # Never a path on the server: the console takes a URL or a file from the browser.
    path = client.post(ADD, data={"csrf_token": admin, "source": "/etc/passwd", "fingerprint": partner_fingerprint()})
    assert path.status_code == 422 and "http(s)" in path.text
    assert client.post("/console/trust/partners/999999/sync", data={"csrf_token": admin}).status_code == 404


def test_stale_and_expired_partners_are_tagged(client, admin):
    _add_file(client, admin)
    partner = _partner()
    partner.synced_at = utcnow() - timedelta(hours=30)
    db.session.commit()
    html = client.get(PAGE).text
    assert '<span class="badge text-bg-warning">需同步</span>' in html and "30.0 小时前" in html
    partner = _partner()
    partner.document = {**partner.document, "valid_until": "2020-02-01T00:00:00+08:00"}
    db.session.commit()
    assert '<span class="badge text-bg-warning">已过期</span>' in client.get(PAGE).text


def test_admin_removes_a_partner(client, admin):
    _add_file(client, admin)
    removed = client.post(f"{PARTNER}/remove", data={"csrf_token": admin})
    assert removed.status_code == 302 and "已移除互认城市 兰州市（620100）" in client.get(PAGE).text
    assert _partner() is None
    assert [(row.actor_kind, row.actor_id) for row in _audit("trust.remove")] == [("staff", _admin_id())]
    assert client.post(f"{PARTNER}/remove", data={"csrf_token": admin}).status_code == 404


def test_health_officers_read_only_other_roles_403_and_csrf(client, admin):
    _add_file(client, admin)
    assert 'href="/console/trust"' in client.get(PAGE).text
    client.post("/console/logout", data={"csrf_token": admin})
    token = make_web_staff(client, "weijian", role="health_officer", county_code="640121")
    html = client.get(PAGE).text
    assert "兰州市" in html and 'href="/console/trust"' in html
    assert "添加互认城市" not in html and "立即同步" not in html and "移除" not in html
    for response in (client.post(f"{PARTNER}/sync", data={"csrf_token": token}),
                     client.post(f"{PARTNER}/remove", data={"csrf_token": token}),
                     client.post(f"{PARTNER}/upload", data={"csrf_token": token, "file": _upload(partner_file())},
                                 content_type="multipart/form-data"),
                     _add_file(client, token)):
        assert response.status_code == 403 and "无权访问" in response.text
    assert _partner() is not None and len(_audit("trust.sync")) == 0
    client.post("/console/logout", data={"csrf_token": token})
    token = make_web_staff(client)  # a county operator
    assert client.get(PAGE).status_code == 403 and client.get("/console/trust/list.json").status_code == 403
    assert "互认城市" not in client.get("/console/applications").text
    client.post("/console/logout", data={"csrf_token": token})
    admin = make_web_staff(client, "office2", role="admin")
    for url in (f"{PARTNER}/sync", f"{PARTNER}/remove", ADD):
        for forged in (None, "forged"):
            response = client.post(url, data={"fingerprint": partner_fingerprint(),
                                              **({"csrf_token": forged} if forged else {})})
            assert response.status_code == 403 and "<html" in response.text
    assert _partner() is not None
