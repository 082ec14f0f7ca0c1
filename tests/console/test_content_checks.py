"""内容审核 in the console API: flagged worker texts by scope, and handling them."""
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog
from tests.builders import PRIVACY_VERSION, application, declare_health, make_staff, profile
from tests.miniprogram_api.wechat_helpers import registered, verdicts, wechat_login
from tests.miniprogram_api.wechat_helpers import wechat, wechat_app  # noqa: F401  (fixtures)

LIST = "/api/console/v1/content-checks"


def _flagged(client, mock):
    """Three workers: one of 永宁县 with a review text, one of 西夏区 (by application) with a review text,
    one of no known county whose text is pending. Returns the staff headers by name."""
    staff = {"office": make_staff(client, "office", role="admin"),
             "yongning": make_staff(client, "yongning", county_code="640121"),
             "xixia": make_staff(client, "xixia", county_code="640105"),
             "hr": make_staff(client, "hr", role="health_officer")}
    verdicts(mock, {"老乡群": "review", "某电子": "review", "杨和镇": requests.ConnectTimeout("slow")})
    headers = wechat_login(client, mock, "o-1")
    assert client.put("/api/mp/v1/me", json=profile(1, job_intention="进老乡群"), headers=headers).status_code == 200
    other = registered(client, mock, "o-2", n=2, hometown_county="西吉县")
    assert declare_health(client, other).status_code == 201
    assert client.post("/api/mp/v1/applications", json=application(county_code="640105"),
                       headers=other).status_code == 201
    third = wechat_login(client, mock, "o-3")
    assert client.put("/api/mp/v1/me", json={"consent_version": PRIVACY_VERSION, "current_address": "永宁县杨和镇"},
                      headers=third).status_code == 200
    return staff


def test_the_office_sees_every_flag_and_counties_their_own(wechat_app, wechat):
    client = wechat_app.test_client()
    staff = _flagged(client, wechat)
    everything = client.get(LIST, headers=staff["office"]).json
    assert everything["total"] == 3
    assert sorted(item["field"] for item in everything["items"]) == ["current_address", "employer_name",
                                                                     "job_intention"]
    review = next(item for item in everything["items"] if item["field"] == "job_intention")
    assert review["content"] == "进老乡群" and review["status"] == "review" and review["status_name"] == "需人工审核"
    assert review["field_name"] == "求职意向" and review["label_name"] == "其他"
    assert review["worker"]["name"] == "张*丰" and review["worker"]["mobile"] == "139****0001"
    mine = client.get(LIST, headers=staff["yongning"]).json["items"]
    assert [item["field"] for item in mine] == ["job_intention"]
    theirs = client.get(LIST, headers=staff["xixia"]).json["items"]
    assert [item["subject"].split(".")[1] for item in theirs] == ["employer_name"]
    assert theirs[0]["field_name"] == "报名的用工企业"
    assert client.get(LIST, headers=staff["hr"]).status_code == 403


def test_views_open_pending_and_handled(wechat_app, wechat):
    client = wechat_app.test_client()
    staff = _flagged(client, wechat)
    office = staff["office"]
    open_items = client.get(LIST, query_string={"status": "open"}, headers=office).json["items"]
    assert sorted(item["field"] for item in open_items) == ["employer_name", "job_intention"]
    pending = client.get(LIST, query_string={"status": "pending"}, headers=office).json["items"]
    assert pending and {item["status"] for item in pending} == {"pending"}
    target = open_items[0]["id"]
    handled = client.post(f"{LIST}/{target}/handle", json={"outcome": "contacted", "note": "已电话提醒"},
                          headers=office)
    assert handled.status_code == 200
    assert handled.json["outcome"] == "contacted" and handled.json["outcome_name"] == "已联系本人"
    assert handled.json["handled_at"] and handled.json["note"] == "已电话提醒"
    assert [item["id"] for item in client.get(LIST, query_string={"status": "handled"}, headers=office).json["items"]] \
        == [target]
    assert len(client.get(LIST, query_string={"status": "open"}, headers=office).json["items"]) == 1
    assert client.get(LIST, query_string={"status": "nonsense"}, headers=office).status_code == 422
    action = db.session.scalar(select(AuditLog.action).where(AuditLog.object_type == "content_check"))
    assert action == "content_check.handle"


def test_handling_rules(wechat_app, wechat):
    client = wechat_app.test_client()
    staff = _flagged(client, wechat)
    office = staff["office"]
    items = client.get(LIST, headers=office).json["items"]
    review = next(item for item in items if item["field"] == "job_intention")
    pending = next(item for item in items if item["status"] == "pending")
    other_county = next(item for item in items if item["field"] == "employer_name")
    # Outside the county: not found, as if it did not exist.
    assert client.post(f"{LIST}/{other_county['id']}/handle", json={"outcome": "ok"},
                       headers=staff["yongning"]).json["error"]["code"] == "content_check_not_found"
    assert client.get(f"{LIST}/{other_county['id']}", headers=staff["yongning"]).status_code == 404
    assert client.get(f"{LIST}/{review['id']}", headers=staff["yongning"]).status_code == 200
    refused = client.post(f"{LIST}/{pending['id']}/handle", json={"outcome": "ok"}, headers=office)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "content_check_not_open"
    assert client.post(f"{LIST}/{review['id']}/handle", json={"outcome": "maybe"}, headers=office).status_code == 422
    assert client.post(f"{LIST}/{review['id']}/handle", json={"outcome": "ok"},
                       headers=staff["yongning"]).status_code == 200
    twice = client.post(f"{LIST}/{review['id']}/handle", json={"outcome": "edited"}, headers=office)
    assert twice.status_code == 409 and twice.json["error"]["code"] == "content_check_handled"
    assert client.post(f"{LIST}/999999/handle", json={"outcome": "ok"}, headers=office).status_code == 404
    assert client.get(LIST).status_code == 401
