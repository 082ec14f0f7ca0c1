"""What the 申请审核 pages show, assembled from the services: rows with masked identity and health, forms parsed
by the API's own schemas, bulk results said as counts.

No rule lives here: the filters are the API's `ApplicationFilterIn`, the decisions its `DecisionIn` and
`BulkDecisionIn`, the health status comes from `health`, whether a decision is open from `review.can_decide`.
"""

from marshmallow import EXCLUDE
from sqlalchemy import select

from app.extensions import db
from app.models import Enterprise, Worker
from app.services.people import health
from app.services.people.identity import mask_name
from app.services.transport import review
from console import presenters
from console import schemas as s
from console.web import forms

FILTERS = ("status", "direction", "date_from", "date_to", "destination", "origin", "county_code")
PER_PAGE_CHOICES = (20, 50, 100)
FIELD_LABELS = {"status": "状态", "direction": "方向", "date_from": "出发日期从", "date_to": "出发日期到",
                "destination": "目的地", "origin": "出发地", "county_code": "县区代码", "page": "页码",
                "per_page": "每页条数", "reason": "驳回原因", "ids": "勾选的报名", "decision": "操作", "_body": "内容"}
DECISION_WORDS = {"approve": "通过", "reject": "驳回"}


def given(args):
    """The query's filter and paging values that are filled in (an empty form field means no filter)."""
    return forms.given(args, FILTERS + ("page", "per_page"))


def parse_filters(args):
    """The filters and paging of a list URL, loaded by the API's schema; raises ValidationError."""
    return s.ApplicationFilterIn().load(given(args), unknown=EXCLUDE)


def error_text(error, lead):
    """`forms.error_sentence` with this page's field names."""
    return forms.error_sentence(error, lead, FIELD_LABELS)


def list_url(args, **changes):
    """This list's URL with the current filters and some values changed (`forms.filtered_url`)."""
    return forms.filtered_url("console_web.applications", given(args), **changes)


def paging(page, per_page, total):
    """The pager's numbers (`forms.paging`) with this list's per-page choices."""
    return forms.paging(page, per_page, total, PER_PAGE_CHOICES)


def rows(items):
    """The listed applications as the table shows them: masked worker, health status, employer, open decisions."""
    workers = {w.id: w for w in db.session.scalars(select(Worker).where(Worker.id.in_({a.worker_id for a in items})))}
    records = health.observations_by_worker(list(workers))
    employers = _employer_names(items)
    result = []
    for application in items:
        view = application_view(application, workers[application.worker_id], employers)
        view["health"] = health.derive(records[application.worker_id])
        result.append(view)
    return result


def application_view(application, worker, employers=None):
    """One application as the API presents it (ID and phone masked), the name masked too, and what may be decided."""
    view = presenters.application_view(application, worker)
    view["worker"]["name"] = mask_name(worker.name)
    view["employer_contact"] = application.employer_contact_mask
    employers = employers if employers is not None else _employer_names([application])
    view["employer"] = application.employer_name or employers.get(application.employer_id)
    view["decidable"] = {decision: review.can_decide(application, decision) for decision in DECISION_WORDS}
    return view


def detail(application):
    """The drawer's content: the application and the worker's health record (status with reason, events newest first)."""
    worker = db.session.get(Worker, application.worker_id)
    return application_view(application, worker), health.record_of(worker)


def _employer_names(items):
    ids = {a.employer_id for a in items if a.employer_id is not None and not a.employer_name}
    if not ids:
        return {}
    return dict(db.session.execute(select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(ids))).all())


def parse_decision(form, ids, decision):
    """A decision on ids, loaded by the API's BulkDecisionIn; raises ValidationError.

    The form's reason field is the 驳回原因: it goes with a rejection only, so text typed there and then
    通过 clicked does not become an approval's reason.
    """
    body = {"ids": ids, "decision": decision}
    reason = (form.get("reason") or "").strip()
    if reason and decision == "reject":
        body["reason"] = reason
    return s.BulkDecisionIn().load(body)


def summary(results, decision):
    """Bulk results said as counts: (kind, message) such as ("success", "已通过 5 条")."""
    word = DECISION_WORDS[decision]
    changed = sum(1 for r in results if r["ok"] and r.get("changed", True))
    unchanged = sum(1 for r in results if r["ok"] and not r.get("changed", True))
    failed = {}
    for result in results:
        if not result["ok"]:
            failed[result["message"]] = failed.get(result["message"], 0) + 1
    parts = [f"已{word} {changed} 条"] if changed or not (unchanged or failed) else []
    if unchanged:
        parts.append(f"{unchanged} 条原已{word}，未改动")
    parts.extend(f"未处理 {count} 条：{message}" for message, count in failed.items())
    if not (unchanged or failed):
        kind = "success"
    else:
        kind = "danger" if failed and not (changed or unchanged) else "warning"
    return kind, "；".join(parts)


def back_target(value, default):
    """Where to return after an action: a 申请审核 URL of this console (path and query), else `default`."""
    return forms.back_target(value, "/console/applications", default)

