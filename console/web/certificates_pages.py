"""健康证明 (health officers' certificates): certificates by status with counts and paging, one in a drawer with its QR,
basis, 打印 (the PDF) and 撤销; 出具健康证明 by the ID number on the card the officer holds.

The same services and scope as console/certificate_routes.py: `certificates.list_for_staff / find_for_staff` (outside
the officer's county → 404 page, another role → 403 page), `issue_by_staff`, `revoke_by_staff`, `worker_by_id_number`.
"""
from flask import Response, redirect, request, url_for
from marshmallow import ValidationError

from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.services.credentials import certificates
from app.services.people.health_rules import SYMPTOMS
from app.services.platform import scope
from console.downloads import content_disposition
from console.web import bp
from console.web import certificates_view as view
from console.web.layout import beijing, flash, render_page
from console.web.session import current_staff

_SERIAL = "/certificates/<int(max=2147483647):serial>"


@bp.get("/certificates", endpoint="certificates")
def certificates_list():
    """Certificates in the officer's scope by status (tabs with counts), newest first, with paging."""
    staff = current_staff()
    scope.require_role(staff, certificates.OFFICERS)
    page = {"filters": view.given(request.args), "list_url": lambda **changes: view.list_url(request.args, **changes)}
    try:
        query = view.parse_filters(request.args)
    except ValidationError as error:
        return render_page("console/certificates/list.html", status=422, rows=[], total=0, paging=None, counts={},
                           error=view.error_text(error, "筛选条件有误"), **page)
    number, per_page = query.pop("page"), query.pop("per_page")
    found, total = certificates.list_for_staff(staff, query.get("status"), number, per_page, query.get("worker_id"))
    return render_page("console/certificates/list.html", rows=view.rows(found), total=total,
                       counts=view.counts(staff, query.get("worker_id")), paging=view.paging(number, per_page, total),
                       **page)


@bp.get(_SERIAL)
def certificate_detail(serial):
    """One certificate with its QR, basis, 打印 and 撤销: the drawer for htmx, else a page."""
    item = certificates.view(certificates.find_for_staff(current_staff(), serial))
    if request.headers.get("HX-Request"):
        back = view.back_target(request.headers.get("HX-Current-URL"), url_for("console_web.certificates"))
        return render_page("console/certificates/_drawer.html", item=item, back=back, reasons=_reasons())
    return render_page("console/certificates/detail.html", item=item, reasons=_reasons(),
                       back=url_for("console_web.certificates"))


@bp.get(f"{_SERIAL}.png")
def certificate_png(serial):
    """The certificate's QR as PNG, for the drawer (in scope, as the certificate)."""
    png = certificates.render_png(certificates.find_for_staff(current_staff(), serial))
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, no-store"})


@bp.get(f"{_SERIAL}.pdf")
def certificate_print(serial):
    """The printable A4 certificate (打印)."""
    pdf = certificates.render_pdf(certificates.find_for_staff(current_staff(), serial))
    return Response(pdf, mimetype="application/pdf", headers={
        "Cache-Control": "private, no-store",
        "Content-Disposition": content_disposition(f"健康证明-{serial}.pdf", f"certificate-{serial}.pdf")})


@bp.post(f"{_SERIAL}/revoke")
def certificate_revoke(serial):
    """Revoke a certificate (撤销) with one of the fixed reasons; it joins the revocation list partners sync."""
    back = view.back_target(request.form.get("back"), url_for("console_web.certificates"))
    try:
        row = certificates.revoke_by_staff(current_staff(), serial, **view.parse_revoke(request.form))
    except (ValidationError, Conflict) as error:
        db.session.rollback()
        item = certificates.view(certificates.find_for_staff(current_staff(), serial))  # outside scope → 404 page
        return render_page("console/certificates/detail.html", status=getattr(error, "status", 422), item=item,
                           reasons=_reasons(), back=back, error=view.error_text(error, "未撤销"))
    flash(f"已撤销健康证明 {row.id}：{certificates.STAFF_REVOKE_REASONS[row.revoke_reason]}")
    return redirect(back)


def _reasons():
    return certificates.STAFF_REVOKE_REASONS


@bp.get("/certificates/new")
def certificate_new():
    """出具健康证明: the ID number on the card, the pre-trip temperature and symptoms."""
    scope.require_role(current_staff(), certificates.OFFICERS)
    return _new_page()


def _new_page(status=200, form=None, error=None, missing=None, worker=None):
    return render_page("console/certificates/new.html", status=status, form=view.issue_defaults(form), error=error,
                       missing=missing, worker=worker, symptoms=SYMPTOMS)


@bp.post("/certificates/new")
def certificate_issue():
    """Record the check and issue (出具): then the new certificate with 打印; not eligible → the conditions missing."""
    staff = current_staff()
    worker = None
    try:
        check = view.parse_issue(request.form)
        worker = certificates.worker_by_id_number(staff, request.form.get("id_number"))
        row = certificates.issue_by_staff(staff, worker.id, check["temperature"], tuple(check["symptoms"]))
    except (ValidationError, Invalid, NotFound, Conflict) as error:
        shown = view.person(worker) if isinstance(error, Conflict) else None  # found in scope: its masked identity
        db.session.rollback()
        missing = (getattr(error, "details", None) or {}).get("missing")
        return _new_page(getattr(error, "status", 422), request.form, view.error_text(error, "未出具"), missing, shown)
    flash(f"已出具健康证明 {row.id}，有效期至 {beijing(row.valid_until)}")
    return redirect(url_for("console_web.certificate_detail", serial=row.id))
