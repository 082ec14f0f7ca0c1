"""Review of applications: filters, approve/reject one or many, scope."""
from tests.builders import make_staff, make_worker, submit_application


def test_list_filter_approve_reject(client):
    staff_headers = make_staff(client)
    worker = make_worker(client)
    application_id = submit_application(client, worker)
    other = make_worker(client, name="b", n=1)
    inbound_id = submit_application(client, other, direction="inbound", origin="甘肃省定西市", destination_city="银川市")
    listed = client.get("/api/console/v1/applications", headers=staff_headers).json
    assert listed["total"] == 2
    item = next(i for i in listed["items"] if i["id"] == application_id)
    assert item["worker"]["id_number"].count("*") == 8 and item["worker"]["mobile"].count("*") == 4
    only_inbound = client.get("/api/console/v1/applications?direction=inbound", headers=staff_headers).json
    assert [i["id"] for i in only_inbound["items"]] == [inbound_id]
    by_destination = client.get("/api/console/v1/applications?destination=宁波", headers=staff_headers).json
    assert [i["id"] for i in by_destination["items"]] == [application_id]
    approved = client.post(f"/api/console/v1/applications/{application_id}/approve", headers=staff_headers)
    assert approved.json["status"] == "approved"
    no_reason = client.post(f"/api/console/v1/applications/{inbound_id}/reject", json={}, headers=staff_headers)
    assert no_reason.status_code == 422 and no_reason.json["error"]["code"] == "reason_required"
    rejected = client.post(f"/api/console/v1/applications/{inbound_id}/reject", json={"reason": "目的地暂不接收"},
                           headers=staff_headers)
    assert rejected.json["status"] == "rejected" and rejected.json["status_reason"] == "目的地暂不接收"
    again = client.post(f"/api/console/v1/applications/{inbound_id}/approve", headers=staff_headers)
    assert again.status_code == 409
    worker_view = client.get(f"/api/mp/v1/applications/{inbound_id}", headers=other).json
    assert worker_view["status"] == "rejected" and worker_view["status_reason"] == "目的地暂不接收"


def test_bulk_decisions_report_each_result(client):
    staff_headers = make_staff(client)
    ids = [submit_application(client, make_worker(client, name=f"w{n}", n=n)) for n in range(3)]
    client.post(f"/api/console/v1/applications/{ids[2]}/reject", json={"reason": "x"}, headers=staff_headers)
    response = client.post("/api/console/v1/applications/decisions",
                           json={"ids": ids + [987654], "decision": "approve"}, headers=staff_headers)
    results = {r["id"]: r for r in response.json["results"]}
    assert results[ids[0]]["ok"] and results[ids[1]]["ok"]
    assert results[ids[2]]["code"] == "application_not_decidable"
    assert results[987654]["code"] == "application_not_found"


def test_other_county_sees_nothing(client):
    yongning = make_staff(client, "yongning", county_code="640121")
    helan = make_staff(client, "helan", county_code="640122")
    application_id = submit_application(client, make_worker(client))
    assert client.get("/api/console/v1/applications", headers=helan).json["total"] == 0
    for action in ("approve", "reject"):
        response = client.post(f"/api/console/v1/applications/{application_id}/{action}", json={"reason": "x"},
                               headers=helan)
        assert response.status_code == 404
    bulk = client.post("/api/console/v1/applications/decisions", json={"ids": [application_id], "decision": "approve"},
                       headers=helan).json["results"]
    assert bulk[0]["code"] == "application_not_found"
    assert client.get("/api/console/v1/applications", headers=yongning).json["total"] == 1


def test_park_operator_sees_applications_to_its_enterprises(client):
    reference = client.get("/api/mp/v1/reference").json
    enterprise = next(e for e in reference["enterprises"] if e["county_code"] == "640122")  # in 贺兰工业园区
    from app.extensions import db
    from app.models import Enterprise

    park_id = db.session.get(Enterprise, enterprise["id"]).park_id
    park = make_staff(client, "park", role="park_operator", park_id=park_id)
    inbound = submit_application(client, make_worker(client), direction="inbound", origin="甘肃省定西市",
                                 county_code="640122", destination_city="银川市", employer_id=enterprise["id"])
    submit_application(client, make_worker(client, name="x", n=1))
    listed = client.get("/api/console/v1/applications", headers=park).json
    assert [i["id"] for i in listed["items"]] == [inbound]

