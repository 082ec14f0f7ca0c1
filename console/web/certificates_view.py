"""What the 健康证明 pages show, assembled from the certificates service: certificates with masked identity, the
basis in words, the status tabs' counts, and the forms parsed by the API's own schemas (console/certificate_schemas.py).

No rule lives here: who sees which certificate is `certificates.list_for_staff / find_for_staff`, whether one may be
issued is `certificates.issue_by_staff`, who holds an ID number is `certificates.worker_by_id_number`.
"""
from marshmallow import EXCLUDE

from app.services.credentials import certificates
from app.services.people.identity import mask_name
from console import certificate_schemas as s
from console.web import forms

FILTERS = ("status", "worker_id")
PER_PAGE_CHOICES = (20, 50, 100)
FIELD_LABELS = {"status": "状态", "worker_id": "人员编号", "page": "页码", "per_page": "每页条数", "temperature": "体温",
                "symptoms": "症状", "id_number": "身份证号", "reason": "撤销原因", "note": "说明", "_body": "内容"}


def given(args, keys=FILTERS + ("page", "per_page")):
    """The values of a query or form that are filled in (an empty field means none)."""
    return forms.given(args, keys)


def parse_filters(args):
    """The list's filters and paging by the API's CertificateFilterIn (20 a page here); raises ValidationError."""
    return s.CertificateFilterIn().load({"per_page": "20", **given(args)}, unknown=EXCLUDE)


def error_text(error, lead):
    """`forms.error_sentence` with this page's field names."""
    return forms.error_sentence(error, lead, FIELD_LABELS)


def list_url(args, **changes):
    """This list's URL with the current filters and some values changed (`forms.filtered_url`)."""
    return forms.filtered_url("console_web.certificates", given(args), **changes)


def paging(page, per_page, total):
    """The pager's numbers with this list's per-page choices."""
    return forms.paging(page, per_page, total, PER_PAGE_CHOICES)


def counts(staff, worker_id=None):
    """How many certificates each status tab holds: {None: all, "valid": n, "revoked": n, "expired": n}."""
    by_status = certificates.count_by_status(staff, worker_id)
    return {None: sum(by_status.values()), **by_status}


def rows(found):
    """The listed certificates as the API shows them (masked name, last four of the ID number, basis in words)."""
    return [certificates.view(row) for row in found]


def person(worker):
    """The person a certificate is for, masked as every page shows them."""
    name = mask_name(worker.name) if worker.name else None
    return {"id": worker.id, "name": name, "id_number": worker.id_number_mask}


def parse_issue(form):
    """Temperature and symptoms of the pre-trip check (the API's CertificateIssueIn); raises ValidationError."""
    values = given(form, ("temperature",))
    values["symptoms"] = [code for code in form.getlist("symptoms") if code]
    return s.CertificateIssueIn().load(values)


def issue_defaults(form=None):
    """The issue form's values to show again: the temperature and symptoms typed (never the ID number)."""
    if form is None:
        return {"temperature": "", "symptoms": []}
    return {"temperature": (form.get("temperature") or "").strip()[:8], "symptoms": form.getlist("symptoms")}


def parse_revoke(form):
    """The revocation's reason code and optional note (CertificateRevokeIn); raises ValidationError."""
    return s.CertificateRevokeIn().load(given(form, ("reason", "note")))


def back_target(value, default):
    """Where to return after an action: a 健康证明 URL of this console (path and query), else `default`."""
    return forms.back_target(value, "/console/certificates", default)
