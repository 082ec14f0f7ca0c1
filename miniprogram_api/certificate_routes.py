"""The worker's health certificate (健康证明): the QR they show in another city, as JSON, PNG and printable PDF."""
from apiflask.fields import String
from flask import Response, url_for

from app.schema_fields import CertificateOut
from app.services.credentials import certificates
from miniprogram_api import bp
from miniprogram_api.auth import auth, current_worker

_ERRORS = {401: "未登录", 404: "暂无有效的健康证明（details.missing 说明缺少什么）", 503: "证明签名密钥未配置"}


class CurrentCertificateOut(CertificateOut):
    """The worker's certificate with where to fetch its QR image and PDF."""

    png_url = String()
    pdf_url = String()


@bp.get("/certificates/current")
@bp.auth_required(auth)
@bp.output(CurrentCertificateOut)
@bp.doc(summary="我的健康证明（无有效证明时按规则自动出具）", responses=_ERRORS)
def current_certificate():
    """The worker's valid certificate, issued now by the rule if they have none and it allows."""
    view = certificates.view(certificates.current_or_issue(current_worker()))
    return {**view, "png_url": url_for("mp.current_certificate_png"), "pdf_url": url_for("mp.current_certificate_pdf")}


@bp.get("/certificates/current.png")
@bp.auth_required(auth)
@bp.output({}, content_type="image/png")
@bp.doc(summary="我的健康证明二维码（图片）", responses=_ERRORS)
def current_certificate_png():
    """The certificate's QR code (PNG)."""
    png = certificates.render_png(certificates.current_or_issue(current_worker()))
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=300"})


@bp.get("/certificates/current.pdf")
@bp.auth_required(auth)
@bp.output({}, content_type="application/pdf")
@bp.doc(summary="我的健康证明（A4 PDF，可打印）", responses=_ERRORS)
def current_certificate_pdf():
    """The certificate as a printable one-page A4 PDF."""
    pdf = certificates.render_pdf(certificates.current_or_issue(current_worker()))
    return Response(pdf, mimetype="application/pdf", headers={
        "Cache-Control": "private, no-store", "Content-Disposition": 'inline; filename="health-certificate.pdf"'})

