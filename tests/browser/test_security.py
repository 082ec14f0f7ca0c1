"""Security as a browser meets it: another county's objects are the 404 page, a role without the right the
403 page, both accessible and carrying the CSP (the CSRF refusal is in test_sign_in.py)."""
from app.services.accounts import staff
from tests.browser.helpers import check_a11y, shoot, sign_in, text_of
from tests.builders import STAFF_PASSWORD, make_staff, make_worker, publish_trip, submit_application
from tests.console_web.checkpoint_helpers import checkpoint_id


def test_another_countys_objects_are_not_found_and_a_wrong_role_is_forbidden(page, live):
    # 兴庆区's application and trip; the operator signing in works for 永宁县.
    xingqing = make_staff(live.client, "xingqing", county_code="640104")
    trip = publish_trip(live.client, passengers=2, staff_headers=xingqing, county_code="640104", origin="兴庆区")
    application_id = submit_application(live.client, make_worker(live.client, name="other", n=30),
                                        county_code="640104", origin="兴庆区")
    staff.create_staff("yongning", STAFF_PASSWORD, "county_operator", display_name="王明", county_code="640121", by=staff.CLI)
    staff.create_staff("station", STAFF_PASSWORD, "checkpoint_staff", display_name="李卡口",
                       checkpoint_id=checkpoint_id(), by=staff.CLI)

    sign_in(page, live, "yongning")
    for path in (f"/console/applications/{application_id}", f"/console/trips/{trip['trip']['id']}",
                 f"/console/trips/{trip['trip']['id']}/manifest", f"/console/trips/{trip['trip']['id']}/reconciliation"):
        response = page.goto(path)
        assert response.status == 404, path
        assert "未找到" in text_of(page, "main") and "兴庆区" not in page.content()
        assert "script-src 'self'" in response.headers["content-security-policy"]
    check_a11y(page)
    shoot(page, "security-404-other-county")
    page.get_by_role("button", name="退出").click()

    sign_in(page, live, "station")
    response = page.goto("/console/applications")
    assert response.status == 403 and "无权访问" in text_of(page, "main")
    check_a11y(page)
    shoot(page, "security-403-wrong-role")
