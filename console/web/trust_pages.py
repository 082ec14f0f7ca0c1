"""互认城市 (partner cities whose health certificates are recognised here): this deployment's identity, fingerprint and
published list; the partners with the age of their data; add, sync (from the source or an uploaded file), remove.

Health officers read; only the admin changes. Each change goes through `partners` (as `flask trust` does), which
verifies the list against the pinned fingerprint and audits it, here with the admin as the actor.
"""
import json

from flask import Response, redirect, request, url_for

from app.errors import DomainError, Unavailable
from app.extensions import db
from app.services.credentials import partners, trust
from app.services.platform import scope
from app.services.platform.timeutil import local_today
from console.downloads import content_disposition
from console.web import bp
from console.web import trust_view as view
from console.web.layout import flash, render_page
from console.web.session import current_staff

_PARTNER = "/trust/partners/<string(maxlength=32):deployment_id>"


@bp.get("/trust", endpoint="trust")
def trust_page():
    """This deployment and its partners (admin: with the actions; health officer: read only)."""
    scope.require_role(current_staff(), view.READERS)
    return _page()


def _page(status=200, error=None, form=None):
    return render_page("console/trust/page.html", status=status, me=view.me(), partners=view.partner_rows(),
                       stale_hours=view.stale_hours(), can_change=current_staff().role in view.ADMINS, error=error,
                       form=form or {})


@bp.get("/trust/list.json")
def trust_download():
    """This deployment's signed trust list as a file, for a partner without a network path to it."""
    scope.require_role(current_staff(), view.READERS)
    try:
        document = trust.published_trust_list()
    except Unavailable as error:  # no root key yet: the page says so (and offers no download)
        flash(f"无法下载：{error.message}", "danger")
        return redirect(url_for("console_web.trust"))
    me = trust.deployment()
    name = f"trust-list-{me['id']}-{local_today():%Y%m%d}.json"
    return Response(json.dumps(document, ensure_ascii=False, indent=1), mimetype="application/json",
                    headers={"Content-Disposition": content_disposition(name, name), "Cache-Control": "no-store"})


@bp.post("/trust/partners")
def trust_add():
    """添加: import a partner's list from its URL or an uploaded file, pinned by the fingerprint they gave."""
    staff = current_staff()
    scope.require_role(staff, view.ADMINS)
    try:
        partner = partners.add(view.source_of(request.form, request.files), request.form.get("fingerprint", ""),
                               actor=("staff", staff.id))
    except DomainError as error:
        db.session.rollback()
        return _page(error.status, f"未添加：{error.message}", view.add_values(request.form))
    flash(f"已添加互认城市 {partner.name}（{partner.deployment_id}）")
    return redirect(url_for("console_web.trust"))


@bp.post(_PARTNER + "/sync")
def trust_sync(deployment_id):
    """立即同步: refresh one partner from its source; a failure keeps the stored list and says why."""
    return _synced(deployment_id, None)


@bp.post(_PARTNER + "/upload")
def trust_upload(deployment_id):
    """上传列表文件: refresh one partner from a list carried by hand (an air-gapped office)."""
    scope.require_role(current_staff(), view.ADMINS)
    try:
        content = view.uploaded(request.files)
    except DomainError as error:
        return _page(error.status, f"未更新：{error.message}")
    return _synced(deployment_id, content)


def _synced(deployment_id, content):
    staff = current_staff()
    scope.require_role(staff, view.ADMINS)
    try:
        result = partners.sync(deployment_id, file=content, actor=("staff", staff.id))[0]
    except DomainError as error:  # no such partner → 404 page; an unreadable file → the page with the reason
        db.session.rollback()
        if error.status == 404:
            raise
        return _page(error.status, f"未更新：{error.message}")
    if result["ok"]:
        flash(f"已同步 {result['name']}（{result['deployment_id']}）")
    else:
        flash(f"{result['name']} 未更新，仍使用已导入的列表：{result['message']}", "danger")
    return redirect(url_for("console_web.trust"))


@bp.post(_PARTNER + "/remove")
def trust_remove(deployment_id):
    """移除: stop recognising a partner at once (its certificates are refused from now on)."""
    staff = current_staff()
    scope.require_role(staff, view.ADMINS)
    partner = partners.remove(deployment_id, actor=("staff", staff.id))
    flash(f"已移除互认城市 {partner.name}（{partner.deployment_id}）：其健康证明不再被认可")
    return redirect(url_for("console_web.trust"))
