"""Content security (msgSecCheck 2.0) on a worker's free text: profile and applications. WeChat intercepted at HTTP."""
import json
from datetime import timedelta

import pytest
import requests
import responses
from sqlalchemy import select, update

from app.extensions import db
from app.models import Application, ContentCheck, Message, Worker
from app.models.base import utcnow
from tests.builders import application, declare_health, login, make_staff, make_worker, profile
from tests.miniprogram_api.wechat_helpers import CHECK_URL, TOKEN_URL, check_calls, registered, verdicts, wechat_login
from tests.miniprogram_api.wechat_helpers import wechat, wechat_app  # noqa: F401  (fixtures)

ME = "/api/mp/v1/me"
APPLY = "/api/mp/v1/applications"


def _flags():
    db.session.remove()
    return db.session.scalars(select(ContentCheck).order_by(ContentCheck.id)).all()


def _alerts():
    return db.session.scalars(select(Message).where(Message.recipient_kind == "staff").order_by(Message.id)).all()


def test_each_changed_text_is_checked_once_and_passing_text_is_saved(wechat_app, wechat):
    client = wechat_app.test_client()
    verdicts(wechat)
    headers = registered(client, wechat)
    sent = check_calls(wechat)
    assert sorted(sent) == sorted(["永宁县望远镇幸福村3组", "望远镇", "电子厂普工", "焊工", "永宁县"])
    assert _flags() == []
    # The same texts again: nothing to check; one changed: one call, with the worker's openid and scene 1.
    assert client.put(ME, json=profile(0), headers=headers).status_code == 200
    assert len(check_calls(wechat)) == 5
    response = client.put(ME, json={"job_intention": "仓库分拣", "skills": ["焊工", "叉车"]}, headers=headers)
    assert response.status_code == 200
    assert check_calls(wechat)[5:] == ["仓库分拣", "焊工、叉车"]
    # Names, ID numbers and mobiles are never sent.
    assert not any("张三丰" in text or "139" in text for text in check_calls(wechat))


def test_risky_text_is_refused_naming_the_field_and_nothing_is_saved(wechat_app, wechat):
    client = wechat_app.test_client()
    verdicts(wechat, {"赌博": "risky"})
    headers = wechat_login(client, wechat)
    body = profile(0, current_address="永宁县 线上赌博 加微信")
    response = client.put(ME, json=body, headers=headers)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "content_risky" and "现住址" in error["message"]
    assert set(error["fields"]) == {"current_address"}
    db.session.remove()
    worker = db.session.scalar(select(Worker))
    assert worker.name is None and worker.mobile_cipher is None and worker.consent_version is None
    assert _flags() == [] and _alerts() == []


def test_review_text_is_saved_flagged_and_the_county_told(wechat_app, wechat):
    client = wechat_app.test_client()
    make_staff(client, "yongning", county_code="640121")
    make_staff(client, "xingqing", county_code="640104")
    make_staff(client, "office", role="admin")
    verdicts(wechat, {"老乡群": "review"})
    headers = wechat_login(client, wechat)
    response = client.put(ME, json=profile(0, job_intention="电子厂普工，进老乡群"), headers=headers)
    assert response.status_code == 200 and response.json["job_intention"] == "电子厂普工，进老乡群"
    [flag] = _flags()
    assert (flag.field, flag.subject, flag.status, flag.scene) == ("job_intention", "worker.job_intention", "review", 1)
    assert flag.content == "电子厂普工，进老乡群" and flag.label == 21000 and flag.trace_id == "trace-review"
    assert flag.county_code == "640121"  # hometown 永宁县, no application yet
    alerts = _alerts()
    told = sorted(alert.staff_user_id for alert in alerts)
    from app.models import StaffUser
    names = {s.id: s.username for s in db.session.scalars(select(StaffUser))}
    assert sorted(names[i] for i in told) == ["office", "yongning"]
    assert alerts[0].title == "内容待审核" and "求职意向" in alerts[0].body


def test_wechat_down_saves_the_text_pending_and_stops_calling(wechat_app, wechat):
    client = wechat_app.test_client()
    verdicts(wechat, default=requests.ConnectTimeout("slow"))
    headers = wechat_login(client, wechat)
    response = client.put(ME, json=profile(0), headers=headers)
    assert response.status_code == 200 and response.json["profile_complete"] is True
    assert len(check_calls(wechat)) == 1  # the first timeout; the other texts did not wait their own
    flags = _flags()
    assert sorted(flag.field for flag in flags) == ["current_address", "hometown_county", "hometown_township",
                                                    "job_intention", "skills"]
    assert {flag.status for flag in flags} == {"pending"} and all(flag.next_check_at for flag in flags)
    assert _alerts() == []  # nothing doubtful yet


def test_busy_wechat_is_pending_too(wechat_app, wechat):
    client = wechat_app.test_client()
    verdicts(wechat, {"望远镇": {"errcode": -1, "errmsg": "system error"}})
    headers = wechat_login(client, wechat)
    assert client.put(ME, json=profile(0, current_address="银川市兴庆区"), headers=headers).status_code == 200
    # current_address passed; busy at hometown_township, so the texts after it wait with it.
    assert [(flag.field, flag.status) for flag in _flags()] == [
        ("hometown_township", "pending"), ("job_intention", "pending"), ("skills", "pending")]
    assert check_calls(wechat) == ["永宁县", "银川市兴庆区", "望远镇"]


def test_a_new_text_replaces_the_pending_flag_of_the_old_one(wechat_app, wechat):
    client = wechat_app.test_client()
    verdicts(wechat, {"焊工": requests.ConnectionError("down")})
    headers = registered(client, wechat)
    assert [flag.field for flag in _flags()] == ["skills"]
    assert client.put(ME, json={"skills": ["电工"]}, headers=headers).status_code == 200
    assert _flags() == []


def test_without_wechat_nothing_is_checked(client):
    headers = make_worker(client)
    assert client.put(ME, json={"current_address": "随便写什么"}, headers=headers).status_code == 200
    assert _flags() == []


def _ready(client, mock):
    headers = registered(client, mock)
    assert declare_health(client, headers).status_code == 201
    return headers


def test_application_texts_are_checked_and_a_risky_one_refused(wechat_app, wechat):
    client = wechat_app.test_client()
    verdicts(wechat, {"代开发票": "risky"})
    headers = _ready(client, wechat)
    before = len(check_calls(wechat))
    response = client.post(APPLY, json=application(destination_address="北仑区 代开发票"), headers=headers)
    assert response.status_code == 422 and response.json["error"]["code"] == "content_risky"
    assert "目的地详细地址" in response.json["error"]["message"]
    assert db.session.scalar(select(Application)) is None
    assert sorted(check_calls(wechat)[before:]) == sorted(
        ["永宁县", "永宁县汽车站", "浙江省宁波市", "北仑区 代开发票", "宁波某电子有限公司"])


def test_application_review_is_saved_flagged_for_its_county(wechat_app, wechat):
    client = wechat_app.test_client()
    make_staff(client, "xixia", county_code="640105")
    make_staff(client, "yongning", county_code="640121")
    verdicts(wechat, {"某电子": "review"})
    headers = _ready(client, wechat)
    response = client.post(APPLY, json=application(county_code="640105"), headers=headers)
    assert response.status_code == 201
    [flag] = _flags()
    assert flag.subject == f"application:{response.json['id']}.employer_name" and flag.county_code == "640105"
    from app.models import StaffUser
    [alert] = _alerts()
    assert db.session.get(StaffUser, alert.staff_user_id).username == "xixia"
    assert "报名的用工企业" in alert.body


def test_an_application_is_never_blocked_by_wechat_being_down(wechat_app, wechat):
    client = wechat_app.test_client()
    verdicts(wechat, {"汽车站": requests.ReadTimeout("slow")})
    headers = _ready(client, wechat)
    response = client.post(APPLY, json=application(), headers=headers)
    assert response.status_code == 201
    assert {flag.status for flag in _flags()} == {"pending"}


def test_a_worker_with_a_dev_login_is_not_checked_against_wechat(client):
    headers = login(client)
    assert client.put(ME, json=profile(0), headers=headers).status_code == 200
    assert _flags() == []


# --- recheck_pending (run by `flask notify run`) ---------------------------------


def _pending(client, mock, field_word="焊工"):
    """A registered worker whose skills text is pending (WeChat was down for it); the flag is due now."""
    verdicts(mock, {field_word: requests.ConnectTimeout("slow")})
    headers = registered(client, mock)
    [flag] = _flags()
    flag.next_check_at = flag.created_at
    db.session.commit()
    mock.remove(responses.POST, CHECK_URL)
    return headers, flag.id


def _recheck():
    from app.services.people import content_security

    result = content_security.recheck_pending(limit=10)
    db.session.remove()
    return result


def test_a_pending_text_that_passes_later_is_marked_pass(wechat_app, wechat):
    _, flag_id = _pending(wechat_app.test_client(), wechat)
    verdicts(wechat)
    assert _recheck()["pass"] == 1
    flag = db.session.get(ContentCheck, flag_id)
    assert flag.status == "pass" and flag.checked_at and flag.attempts == 2 and flag.next_check_at is None
    assert _alerts() == []
    assert _recheck() == {"pass": 0, "review": 0, "risky": 0, "pending": 0, "dropped": 0}


def test_a_pending_text_found_risky_later_is_flagged_for_staff(wechat_app, wechat):
    client = wechat_app.test_client()
    make_staff(client, "yongning", county_code="640121")
    _, flag_id = _pending(client, wechat)
    verdicts(wechat, default="risky")
    assert _recheck()["risky"] == 1
    flag = db.session.get(ContentCheck, flag_id)
    assert flag.status == "risky" and flag.label == 20006
    assert db.session.scalar(select(Worker.skills)) == ["焊工"]  # saved already: staff decide
    [alert] = _alerts()
    assert "技能" in alert.body and "有风险" in alert.body


def test_a_text_changed_or_gone_since_is_dropped(wechat_app, wechat):
    client = wechat_app.test_client()
    _, flag_id = _pending(client, wechat)
    worker = db.session.scalar(select(Worker))
    worker.skills = ["电工"]  # changed outside the hooks (say, by staff)
    db.session.commit()
    verdicts(wechat)
    calls = len(check_calls(wechat))
    assert _recheck()["dropped"] == 1
    assert db.session.get(ContentCheck, flag_id) is None
    assert len(check_calls(wechat)) == calls  # nothing sent for a text no longer stored


def test_still_unreachable_waits_longer_then_goes_to_staff(wechat_app, wechat):
    client = wechat_app.test_client()
    wechat_app.config["NOTIFY_MAX_ATTEMPTS"] = 3
    _, flag_id = _pending(client, wechat)
    verdicts(wechat, default=requests.ConnectTimeout("slow"))
    assert _recheck()["pending"] == 1
    flag = db.session.get(ContentCheck, flag_id)
    assert flag.status == "pending" and flag.attempts == 2
    waited = flag.next_check_at - flag.created_at
    assert waited.total_seconds() >= wechat_app.config["NOTIFY_RETRY_SECONDS"]
    assert _recheck()["pending"] == 0  # not due yet: not tried again
    flag = db.session.get(ContentCheck, flag_id)
    flag.next_check_at = flag.created_at
    db.session.commit()
    assert _recheck()["review"] == 1
    flag = db.session.get(ContentCheck, flag_id)
    assert flag.status == "review" and flag.last_error.startswith("gave up") and flag.attempts == 3


def test_a_worker_not_seen_for_two_hours_goes_to_staff(wechat_app, wechat):
    """msgSecCheck 2.0 checks only users who opened the mini-program within two hours (61010)."""
    _, flag_id = _pending(wechat_app.test_client(), wechat)
    verdicts(wechat, default={"errcode": 61010, "errmsg": "user access expired"})
    assert _recheck()["review"] == 1
    assert db.session.get(ContentCheck, flag_id).last_error == "errcode 61010"


def test_a_flag_claimed_by_another_runner_is_left_alone(wechat_app, wechat):
    from app.services.people import content_security

    _, flag_id = _pending(wechat_app.test_client(), wechat)
    now = db.session.get(ContentCheck, flag_id).next_check_at
    assert content_security._claim(flag_id, now) is True
    assert content_security._claim(flag_id, now) is False  # the lease moved next_check_at past now
    verdicts(wechat)
    assert _recheck()["pass"] == 0


def test_nothing_is_rechecked_without_wechat(app):
    from app.services.people import content_security

    assert content_security.recheck_pending() == {"pass": 0, "review": 0, "risky": 0, "pending": 0, "dropped": 0}


def test_flags_and_the_verified_mark_go_with_the_retention_purge(client, app):
    """Flags quote the worker's texts: the purge erases them with the worker's data and with a purged application."""
    from app.models import AuthToken, HealthEvent
    from app.services.office.retention import purge_expired
    from app.services.people import content_security
    from app.services.people.content_security import Verdict

    headers = make_worker(client)
    assert client.post("/api/mp/v1/me/phone", json={"code": "dev:13800001111"}, headers=headers).status_code == 200
    created = client.post(APPLY, json=application(), headers=headers).json
    client.post(f"{APPLY}/{created['id']}/cancel", headers=headers)
    worker = db.session.scalar(select(Worker))
    content_security.record(worker, [Verdict("job_intention", "电子厂普工", 1, "review")])
    content_security.record(worker, [Verdict("destination_address", "北仑区", 1, "review")],
                            db.session.get(Application, created["id"]))
    db.session.commit()
    assert len(_flags()) == 2
    past = utcnow() - timedelta(days=app.config["RETENTION_DAYS"] + 1)
    for model, values in ((HealthEvent, {"occurred_at": past}), (Application, {"updated_at": past}),
                          (Worker, {"updated_at": past, "last_login_at": past}), (AuthToken, {"expires_at": past})):
        db.session.execute(update(model).values(**values))
    db.session.commit()
    assert purge_expired()["workers"] == 1
    assert _flags() == []
    assert db.session.scalar(select(Worker.mobile_verified_at)) is None


def test_two_runners_at_once_check_each_pending_text_once(make_app, backend):
    """Two `flask notify run` hosts rechecking together: the claim (a conditional UPDATE) gives each text to one."""
    import threading
    import time
    from collections import Counter

    from app.services.people import content_security
    from app.services.people.content_security import Verdict

    if backend["BACKEND"] == "sqlite":
        pytest.skip("concurrent writers only race on MariaDB")
    app = make_app(WECHAT_APP_ID="wx0123456789abcdef", WECHAT_APP_SECRET="test-app-secret")
    with app.app_context():
        for n in range(12):
            worker = Worker(openid=f"o-{n}", current_address=f"永宁县望远镇{n}号")
            db.session.add(worker)
            db.session.flush()
            content_security.record(worker, [Verdict("current_address", worker.current_address, 1, "pending")])
        db.session.execute(update(ContentCheck).values(next_check_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    seen, start = Counter(), threading.Barrier(2)

    def answer(request):
        seen[json.loads(request.body)["content"]] += 1
        time.sleep(0.02)  # long enough for the other runner to reach the same rows
        return 200, {}, json.dumps({"errcode": 0, "result": {"suggest": "pass", "label": 100}})

    def runner(results):
        with app.app_context():
            start.wait()
            results.append(content_security.recheck_pending(limit=50))
            db.session.remove()

    results = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(TOKEN_URL, json={"access_token": "ACCESS_TOKEN", "expires_in": 7200})
        mock.add_callback(responses.POST, CHECK_URL, callback=answer)
        threads = [threading.Thread(target=runner, args=(results,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert sum(result["pass"] for result in results) == 12
    assert len(seen) == 12 and set(seen.values()) == {1}
    with app.app_context():
        assert set(db.session.scalars(select(ContentCheck.status))) == {"pass"}


def _all_pending_and_due(client, mock):
    """A worker whose five profile texts are pending (WeChat was down when they were saved), all due now."""
    verdicts(mock, default=requests.ConnectTimeout("slow"))
    headers = wechat_login(client, mock)
    assert client.put(ME, json=profile(0), headers=headers).status_code == 200
    db.session.execute(update(ContentCheck).values(next_check_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    mock.remove(responses.POST, CHECK_URL)
    return len(check_calls(mock))


def test_a_recheck_stops_at_the_first_text_wechat_cannot_reach(wechat_app, wechat):
    """The sender's tick runs the recheck: five timeouts in a row would hold up sending five times as long."""
    calls = _all_pending_and_due(wechat_app.test_client(), wechat)
    verdicts(wechat, default=requests.ConnectTimeout("still down"))
    assert _recheck()["pending"] == 1
    assert len(check_calls(wechat)) == calls + 1
    flags = _flags()
    assert sorted(flag.attempts for flag in flags) == [1, 1, 1, 1, 2]  # the other four wait for their next check


def test_a_recheck_stops_when_the_sender_is_told_to(wechat_app, wechat):
    from app.services.people import content_security

    calls = _all_pending_and_due(wechat_app.test_client(), wechat)
    verdicts(wechat)
    asked = []

    def stop():
        asked.append(1)
        return len(asked) > 1  # SIGTERM arrives during the first check

    assert content_security.recheck_pending(stop=stop)["pass"] == 1
    assert len(check_calls(wechat)) == calls + 1
    assert [flag.status for flag in _flags()].count("pending") == 4


def test_a_pending_text_waits_the_senders_backoff(wechat_app, wechat):
    from app.services.messaging import sender
    from app.services.people import content_security

    wechat_app.config["NOTIFY_RETRY_SECONDS"] = 30
    for attempts in (1, 2, 20):
        wait = (content_security._retry_at(attempts) - utcnow()).total_seconds()
        assert 0.8 * min(30 * 2 ** (attempts - 1), sender.MAX_BACKOFF_SECONDS) - 1 <= wait
        assert wait <= 1.2 * min(30 * 2 ** (attempts - 1), sender.MAX_BACKOFF_SECONDS) + 1
