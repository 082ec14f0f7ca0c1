"""Content security (内容安全): a worker's free text is checked with WeChat's msgSecCheck 2.0 before it is saved.

WeChat answers pass, review or risky for each text. A risky text is refused (422 `content_risky`, naming
the fields) and nothing of the request is saved; a text WeChat wants a person to look at (review) is
saved and flagged for the county's operators; a text WeChat could not judge because it was unreachable,
busy or slow is saved and flagged *pending*, and `recheck_pending` (run by `flask notify run`) checks it
again later. Registration and applications are never blocked by WeChat being down. Without WeChat
configured (development, tests) nothing is checked at all.

One call per text that changed; after the first call that fails for want of WeChat the request's other
texts are not tried (each would wait its own WECHAT_TIMEOUT), they are flagged pending with it.
"""
import logging
from dataclasses import dataclass
from datetime import timedelta

import requests
from flask import current_app
from sqlalchemy import delete, select, update
from wechatpy.exceptions import WeChatClientException

from app.errors import Invalid
from app.extensions import db
from app.models import Application, ContentCheck, County, HealthEvent, Worker
from app.models.base import utcnow
from app.services.messaging import outbox, sender
from app.services.people.identity import mask_name
from app.services.platform import wechat

log = logging.getLogger(__name__)

SCENE_PROFILE, SCENE_COMMENT = 1, 2  # msgSecCheck scenes: 1 资料, 2 评论
# Texts checked, by where they live: field → (words staff and the worker read, scene).
PROFILE_FIELDS = {
    "hometown_county": ("户籍县区", SCENE_PROFILE),  # free text: a county's name as the worker writes it
    "current_address": ("现住址", SCENE_PROFILE),
    "hometown_township": ("户籍乡镇", SCENE_PROFILE),
    "job_intention": ("求职意向", SCENE_PROFILE),
    "employer_name": ("用工单位", SCENE_PROFILE),
    "skills": ("技能", SCENE_PROFILE),
}
APPLICATION_FIELDS = {
    "origin": ("出发地", SCENE_PROFILE),
    "origin_address": ("上车地点", SCENE_PROFILE),
    "destination_city": ("目的城市", SCENE_PROFILE),
    "destination_address": ("目的地详细地址", SCENE_PROFILE),
    "employer_name": ("用工企业", SCENE_PROFILE),
}
# A health declaration's free text (its places, joined with 、): kept on the declaration, never overwritten.
DECLARATION_FIELDS = {
    "places": ("健康申报的途经地", SCENE_PROFILE),
}
# msgSecCheck 2.0 result.label
LABELS = {100: "正常", 10001: "广告", 20001: "时政", 20002: "色情", 20003: "辱骂", 20006: "违法犯罪",
          20008: "欺诈", 20012: "低俗", 20013: "版权", 21000: "其他"}
# Errors no retry cures: a bad openid, a worker who has not opened the mini-program within two hours (2.0
# checks only recent visitors), text WeChat will not take. Such a text goes to a person instead.
_UNCHECKABLE = {40003, 61010, 44004, 47001}
ALERT_KIND = "内容待审核"


@dataclass
class Verdict:
    """What WeChat said of one text: pass | review | risky | pending (not judged yet)."""

    field: str
    content: str
    scene: int
    status: str
    label: int | None = None
    trace_id: str | None = None
    error: str | None = None


def text_of(value):
    """A field's value as the text WeChat checks (skills joined with 、); None when there is none."""
    if isinstance(value, (list, tuple)):
        value = "、".join(str(item) for item in value if item)
    value = (value or "").strip() if isinstance(value, str) else value
    return value or None


def changed_texts(current, changes, fields):
    """{field: text} of the checked fields in `changes` whose text is new (an unchanged or emptied one is not)."""
    texts = {}
    for name in fields:
        if name in changes:
            text = text_of(changes[name])
            if text is not None and text != text_of(getattr(current, name, None)):
                texts[name] = text
    return texts


def screen_declaration(worker, places):
    """Check a health declaration's places (one text) before it is saved: the Verdicts for `record`.

    Raises Invalid content_risky as `screen` does; WeChat being down never blocks a declaration (pending).
    """
    text = text_of([place.strip() for place in places or () if place and place.strip()])
    return screen(worker, {"places": text} if text else {}, DECLARATION_FIELDS)


def screen(worker, texts, fields):
    """Check each text with msgSecCheck; raise Invalid `content_risky` naming the risky fields in Chinese.

    Returns a Verdict per text checked (none when WeChat is unconfigured or the worker has no openid).
    """
    client = wechat.client()
    if client is None or not worker.openid or not texts:
        return []
    verdicts, unreachable = [], None
    for name, text in texts.items():
        scene = fields[name][1]
        if unreachable is not None:
            verdicts.append(Verdict(name, text, scene, "pending", error=unreachable))
            continue
        verdict = _check(client, worker.openid, name, text, scene)
        if verdict.status == "pending":
            unreachable = verdict.error
        verdicts.append(verdict)
    risky = [verdict.field for verdict in verdicts if verdict.status == "risky"]
    if risky:
        words = "、".join(fields[name][0] for name in risky)
        raise Invalid("content_risky", f"{words}含有不适宜的内容，请修改后再提交",
                      fields={name: "含有不适宜的内容，请修改" for name in risky})
    return verdicts


def _check(client, openid, name, text, scene):
    """One msgSecCheck call; network trouble and WeChat's busy answers give a pending Verdict."""
    try:
        result = client.wxa.check_text(text, openid, scene)
    except WeChatClientException as error:
        log.warning("msgSecCheck refused: errcode=%s", error.errcode)
        if error.errcode == 87014:  # the 1.0 answer for risky text, should WeChat still give it
            return Verdict(name, text, scene, "risky", label=21000)
        status = "review" if error.errcode in _UNCHECKABLE else "pending"
        return Verdict(name, text, scene, status, error=f"errcode {error.errcode}")
    except requests.RequestException as error:
        log.warning("msgSecCheck unreachable: %s", type(error).__name__)
        return Verdict(name, text, scene, "pending", error=type(error).__name__)
    answer = result.get("result") if isinstance(result, dict) else None
    suggest = answer.get("suggest") if isinstance(answer, dict) else None
    if suggest not in ("pass", "review", "risky"):
        return Verdict(name, text, scene, "pending", error="no suggest")
    label = answer.get("label")
    return Verdict(name, text, scene, suggest, label=label if isinstance(label, int) else None,
                   trace_id=str(result.get("trace_id") or "")[:64] or None)


def record(worker, verdicts, application=None):
    """Keep the flags of a request's checked texts, in the caller's transaction, and alert staff of doubtful ones.

    A new text replaces the pending flag of the text it overwrote (that text is gone); a review flag
    stays until staff handle it. Returns the flags added.
    """
    if not verdicts:
        return []
    now = utcnow()
    overwritten = [verdict.field for verdict in verdicts if verdict.field not in DECLARATION_FIELDS]
    db.session.execute(delete(ContentCheck).where(
        ContentCheck.worker_id == worker.id, ContentCheck.status == "pending",
        ContentCheck.field.in_(overwritten),
        ContentCheck.application_id.is_(None) if application is None
        else ContentCheck.application_id == application.id))
    county = county_of(worker, application)
    flags = []
    for verdict in verdicts:
        if verdict.status == "pass":
            continue
        flag = ContentCheck(worker_id=worker.id, application_id=application.id if application else None,
                            field=verdict.field, content=verdict.content[:700], scene=verdict.scene,
                            county_code=county, status=verdict.status, label=verdict.label,
                            trace_id=verdict.trace_id, attempts=1, last_error=verdict.error, created_at=now,
                            checked_at=None if verdict.status == "pending" else now,
                            next_check_at=_retry_at(1) if verdict.status == "pending" else None)
        db.session.add(flag)
        flags.append(flag)
    doubtful = [flag for flag in flags if flag.status in ("review", "risky")]
    if doubtful:
        _alert(worker, doubtful, county, "微信内容安全检查建议人工审核，请在“内容审核”中查看并处理")
    return flags


def county_of(worker, application=None):
    """The county whose operators see a worker's texts: the application's, the latest application's, or home's."""
    if application is not None:
        return application.county_code
    latest = db.session.scalar(select(Application.county_code).where(Application.worker_id == worker.id)
                               .order_by(Application.created_at.desc(), Application.id.desc()).limit(1))
    if latest is not None:
        return latest
    home = worker.hometown_county
    if not home:
        return None
    return db.session.scalar(select(County.code).where((County.name == home) | (County.code == home)))


def _alert(worker, flags, county, note):
    """A staff alert (待办提醒) to the county's operators and the office: whose text, which fields."""
    roles = ("county_operator", "admin") if county else ("admin",)
    words = "、".join(dict.fromkeys(field_words(flag) for flag in flags))
    who = mask_name(worker.name) if worker.name else f"务工人员{worker.id}"
    outbox.to_staff(outbox.staff_for(roles, county), f"{who}的{words}", note, kind=ALERT_KIND)


def field_words(flag):
    """A flag's field in words: 现住址, 报名的上车地点…"""
    if flag.application_id is None:
        return {**PROFILE_FIELDS, **DECLARATION_FIELDS}.get(flag.field, (flag.field,))[0]
    return "报名的" + APPLICATION_FIELDS.get(flag.field, (flag.field,))[0]


def _retry_at(attempts):
    """When a pending text is tried again: the sender's backoff after this many attempts."""
    return utcnow() + timedelta(seconds=sender.backoff_seconds(attempts))


def current_text(flag):
    """The flagged field's text as it is stored now (None when it, or its worker or application, is gone)."""
    if flag.field in DECLARATION_FIELDS and flag.application_id is None:
        # Declarations are never edited: the text is current while a declaration of the worker still holds it.
        kept = db.session.scalars(select(HealthEvent.places).where(
            HealthEvent.worker_id == flag.worker_id, HealthEvent.kind == "declaration",
            HealthEvent.recorded_at >= flag.created_at - timedelta(minutes=1)).limit(50)).all()
        return flag.content if any(text_of(places) == flag.content for places in kept) else None
    owner = db.session.get(Worker if flag.application_id is None else Application,
                           flag.worker_id if flag.application_id is None else flag.application_id)
    return None if owner is None else text_of(getattr(owner, flag.field, None))


def recheck_pending(limit=50, stop=None):
    """Check pending texts again (those due), each claimed first so two runners never check one twice; commits.

    A text gone or changed since is dropped (a changed text was checked when it was saved); one still
    unjudged after NOTIFY_MAX_ATTEMPTS, or that WeChat cannot judge, goes to staff as review; one found
    review or risky is flagged for staff (it is saved already: staff decide). The run ends after the first
    text WeChat left unjudged (the rest would each wait out a timeout, holding up the sender) and when
    `stop` answers true (SIGTERM). Returns counts by outcome.
    """
    counts = {"pass": 0, "review": 0, "risky": 0, "pending": 0, "dropped": 0}
    client = wechat.client()
    if client is None:
        return counts
    now = utcnow()
    due = db.session.scalars(select(ContentCheck.id).where(ContentCheck.status == "pending",
                                                          ContentCheck.next_check_at <= now)
                             .order_by(ContentCheck.next_check_at, ContentCheck.id).limit(limit)).all()
    for flag_id in due:
        if stop is not None and stop():
            break
        outcome = _recheck_one(client, flag_id, now)
        if outcome is not None:
            counts[outcome] += 1
        if outcome == "pending" or (outcome == "review" and _gave_up(flag_id)):
            break  # WeChat is unreachable: the other texts wait for their next check
    return counts


def _gave_up(flag_id):
    """Whether this flag went to staff because WeChat stayed unreachable (not for WeChat's own answer)."""
    return (db.session.scalar(select(ContentCheck.last_error).where(ContentCheck.id == flag_id)) or "") \
        .startswith("gave up")


def _claim(flag_id, now):
    """Move a due flag's next check past the lease: whoever's UPDATE matches owns it for that long."""
    lease = now + timedelta(seconds=current_app.config["NOTIFY_LEASE_SECONDS"])
    claimed = db.session.execute(
        update(ContentCheck).where(ContentCheck.id == flag_id, ContentCheck.status == "pending",
                                   ContentCheck.next_check_at <= now)
        .values(next_check_at=lease).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return bool(claimed)


def _recheck_one(client, flag_id, now):
    if not _claim(flag_id, now):
        return None
    flag = db.session.get(ContentCheck, flag_id)
    worker = db.session.get(Worker, flag.worker_id)
    if worker is None or not worker.openid or current_text(flag) != flag.content:
        db.session.delete(flag)
        db.session.commit()
        return "dropped"
    verdict = _check(client, worker.openid, flag.field, flag.content, flag.scene)
    flag.attempts += 1
    flag.last_error, flag.trace_id = verdict.error, verdict.trace_id or flag.trace_id
    if verdict.status == "pending" and flag.attempts < current_app.config["NOTIFY_MAX_ATTEMPTS"]:
        flag.next_check_at = _retry_at(flag.attempts)
        db.session.commit()
        return "pending"
    flag.status = "review" if verdict.status == "pending" else verdict.status
    flag.label, flag.checked_at, flag.next_check_at = verdict.label, utcnow(), None
    if verdict.status == "pending":
        flag.last_error = f"gave up: {verdict.error}"[:64]
    if flag.status in ("review", "risky"):
        note = ("复查结果为有风险，内容已保存，请在“内容审核”中处理" if flag.status == "risky"
                else "微信内容安全检查建议人工审核，请在“内容审核”中查看并处理")
        _alert(worker, [flag], flag.county_code, note)
    db.session.commit()
    return flag.status
