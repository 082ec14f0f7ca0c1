"""Handlers of health certificates (健康证明) for health officers: issue on a pre-trip check, list, PDF, revoke."""
from flask import Response

from app.schema_fields import CertificateOut
from app.services.credentials import certificates
from console import bp
from console import certificate_schemas as s
from console.auth import auth, current_staff
from console.downloads import content_disposition
from console.routes import _errors

_SERIAL = "/certificates/<int(max=2147483647):serial>"


@bp.post("/workers/<int(max=2147483647):worker_id>/certificates")
@bp.auth_required(auth)
@bp.input(s.CertificateIssueIn, arg_name="body")
@bp.output(CertificateOut, status_code=201)
@bp.doc(summary="行前体温检测并出具健康证明（不符合条件时 409，检测仍记入档案）",
        responses=_errors(401, 403, 404, 409, 422))
def issue_certificate(worker_id, body):
    """Record the pre-trip check and issue the certificate when the rule allows."""
    row = certificates.issue_by_staff(current_staff(), worker_id, body["temperature"], tuple(body["symptoms"]))
    return certificates.view(row)


@bp.get("/certificates")
@bp.auth_required(auth)
@bp.input(s.CertificateFilterIn, location="query", arg_name="query")
@bp.output(s.CertificatePageOut)
@bp.doc(summary="健康证明列表（卫健：本县区或全部）", responses=_errors(401, 403, 422))
def list_certificates(query):
    """Certificates in the officer's scope, newest first."""
    rows, total = certificates.list_for_staff(current_staff(), query.get("status"), query["page"], query["per_page"],
                                              query.get("worker_id"))
    return {"items": [certificates.view(row) for row in rows], "total": total, "page": query["page"],
            "per_page": query["per_page"]}


@bp.get(_SERIAL)
@bp.auth_required(auth)
@bp.output(CertificateOut)
@bp.doc(summary="健康证明详情", responses=_errors(401, 403, 404))
def get_certificate(serial):
    """One certificate."""
    return certificates.view(certificates.find_for_staff(current_staff(), serial))


@bp.get(f"{_SERIAL}.pdf")
@bp.auth_required(auth)
@bp.output({}, content_type="application/pdf")
@bp.doc(summary="健康证明（A4 PDF，可打印）", responses=_errors(401, 403, 404))
def certificate_pdf(serial):
    """The certificate as a printable A4 PDF."""
    pdf = certificates.render_pdf(certificates.find_for_staff(current_staff(), serial))
    return Response(pdf, mimetype="application/pdf", headers={
        "Cache-Control": "private, no-store",
        "Content-Disposition": content_disposition(f"健康证明-{serial}.pdf", f"certificate-{serial}.pdf")})


@bp.post(f"{_SERIAL}/revoke")
@bp.auth_required(auth)
@bp.input(s.CertificateRevokeIn, arg_name="body")
@bp.output(CertificateOut)
@bp.doc(summary="撤销健康证明（进入撤销列表，互认城市同步后拒绝）", responses=_errors(401, 403, 404, 409, 422))
def revoke_certificate(serial, body):
    """Revoke a certificate with a reason."""
    return certificates.view(certificates.revoke_by_staff(current_staff(), serial, body["reason"], body.get("note")))
