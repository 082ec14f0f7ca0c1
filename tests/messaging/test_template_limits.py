"""Each template's fields at their limits: long places, reasons and enterprise names, plates with Han at both ends,
no captain phone. Every value written obeys WeChat's rule for its type; the inbox keeps the whole text."""
from datetime import date, datetime, time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Message
from app.services.messaging import templates
from tests.builders import publish_trip
from tests.messaging.event_helpers import assert_fitted, obeys_wechat_rules

PLACE = "宁夏回族自治区银川市永宁县望远镇人民政府东门广场对面公交首末站停车场第三排大巴车旁边的遮阳棚下集合点"
REASON = "经核查，您填写的用工单位尚未列入本市首批复工复产企业名单，" * 8
ENTERPRISE = "（示例）宁夏银川经济技术开发区某某新材料科技股份有限公司第二分公司"
DEPARTURE = templates.departure(date(2020, 2, 25), time(8, 30))
EXTREMES = {
    "subject": "返岗出行报名 2月25日–2月28日（浙江省宁波市北仑区）", "result": "未通过（材料不全）", "note": REASON,
    "decided_at": datetime(2020, 2, 24, 23, 59, 59), "application_id": 2147483647,
    "departure": DEPARTURE, "place": PLACE, "vehicle": "宁A1234挂 50号座（加长大客车）", "captain_phone": "",
    "trip_id": 2147483647, "change": "出发时间调整，上车点改为" + PLACE, "arrived_at": datetime(2020, 2, 26, 16, 5),
    "state": "解除隔离观察期满", "mode": "集中隔离 " + PLACE, "at": date(2020, 3, 10),
    "employer": ENTERPRISE, "observation_end": date(2020, 3, 11), "role": "您被指定为副车长（第三班组）",
}


def _values(template):
    """The template's values at their limits, with the ids its page names."""
    return {**{name: EXTREMES[name] for _, _, name in template.fields}, "application_id": 2147483647,
            "trip_id": 2147483647}


@pytest.mark.parametrize("key", sorted(templates.TEMPLATES))
def test_every_field_at_its_limit_obeys_wechat(key):
    template = templates.TEMPLATES[key]
    values = _values(template) if key != "staff_alert" else {"subject": ENTERPRISE, "at": EXTREMES["arrived_at"],
                                                             "note": REASON}
    rendered = templates.render(key, values)
    for wechat_key, value in rendered.data.items():
        assert obeys_wechat_rules(wechat_key, value), (key, wechat_key, value)
    assert len(rendered.title) <= 40 and len(rendered.body) <= 500
    assert "{" not in rendered.page


def test_an_empty_captain_phone_and_a_han_plate_are_kept_valid():
    rendered = templates.render("trip_assigned", _values(templates.TEMPLATES["trip_assigned"]))
    assert rendered.data["phone_number4"] == "-"
    assert rendered.data["thing3"].startswith("宁A1234挂 50号座")
    assert rendered.data["date1"] == "2020年2月25日 08:30"


def test_messages_of_a_trip_with_a_long_place_and_a_han_plate_obey_wechat(client):
    made = publish_trip(client, passengers=3, origin_address=PLACE[:60])
    trip_id = made["trip"]["id"]
    changed = client.patch(f"/api/console/v1/trips/{trip_id}", headers=made["staff"],
                           json={"plate": "宁A1234挂", "departure_place": PLACE[:80], "departure_time": "06:05"})
    assert changed.status_code == 200, changed.json
    cancelled = client.post(f"/api/console/v1/trips/{trip_id}/cancel", json={"reason": REASON[:255]},
                            headers=made["staff"])
    assert cancelled.status_code == 200, cancelled.json
    written = db.session.scalars(select(Message)).all()
    assert {m.template for m in written} >= {"application_decided", "trip_assigned", "crew_published", "trip_changed"}
    for message in written:
        assert_fitted(message)
    assert any(PLACE[:60] in m.body for m in written if m.template == "trip_assigned")
