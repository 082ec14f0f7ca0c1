"""账号 (staff accounts, the coordination office's admin only): list, create, change role and scope, reset a
password, deactivate and activate.

The same functions as `flask staff ...` (`app/services/accounts/staff.py`), with the signed-in admin as
the actor, so each change writes its audit entry; any other role gets the 403 page from the service.
A password the system generates is shown once, on the page the form's redirect leads to (Post/Redirect/Get):
it waits encrypted in a short-lived HttpOnly cookie of these pages, bound to a random one-time key the
redirect's URL carries, and the cookie is deleted as the page shows it, so a reload shows it no more and
repeats no post. It is never in the audit log, a URL or the server's logs.
"""
from flask import current_app, make_response, request, url_for

from app.errors import Conflict, Invalid
from app.extensions import db
from app.services.accounts import staff
from console.web import accounts_view as view
from console.web import bp
from console.web.layout import flash, go, render_page
from console.web.session import current_staff

_ID = "/accounts/<int(max=2147483647):staff_id>"
_COOKIE_PATH = "/console/accounts"  # the sealed new password goes to these pages only


@bp.get("/accounts")
def accounts():
    """Staff accounts with filters (role, scope, state, name) and paging, newest first."""
    admin = current_staff()
    choices, names = view.scope_names(admin)  # the admin's data: another role gets the 403 page here
    page = {"filters": view.given(request.args), "list_url": lambda **changes: view.list_url(request.args, **changes),
            **view.form_context(choices)}
    try:
        query = view.parse_filters(request.args)
        number, per_page = query.pop("page"), query.pop("per_page")
        items, total = staff.list_staff(admin, **query, page=number, per_page=per_page)
    except Invalid as error:
        return render_page("console/accounts/list.html", status=422, rows=[], total=0, paging=None,
                           error=view.error_text(error), **page)
    return render_page("console/accounts/list.html", rows=view.rows(items, names), total=total,
                       paging=view.list_paging(number, per_page, total), **page)


@bp.get("/accounts/new")
def accounts_new():
    """The form for a new account."""
    return _form_page({"role": "county_operator"})


@bp.post("/accounts")
def accounts_create():
    """Create an account; a password left empty is generated and shown once on the answer."""
    values = view.form_values(request.form)
    typed = request.form.get("password", "")
    password = typed or staff.generate_password()
    try:
        user = staff.create_staff(values["username"], password, values["role"], values["display_name"] or None,
                                  by=current_staff(), **view.scope_args(values))
    except (Invalid, Conflict) as error:
        db.session.rollback()
        return _form_page(values, error)
    flash(f"已新建账号 {user.username}")
    return _to_detail(user, None if typed else password)


@bp.get(_ID)
def accounts_detail(staff_id):
    """One account: its role and scope to change, its password to reset, deactivate or activate.

    After a generated password, `?shown=<key>` shows it this once; a reload says it was shown already.
    """
    admin = current_staff()
    user = staff.get_staff(admin, staff_id)
    key = request.args.get("shown")
    new_password = view.take_new_password(admin, user, key, request.cookies.get(view.SHOWN_COOKIE)) if key else None
    page = make_response(_detail_page(user, new_password=new_password, password_gone=bool(key) and new_password is None))
    if new_password is not None:
        page.delete_cookie(view.SHOWN_COOKIE, path=_COOKIE_PATH)
    return page


@bp.post(_ID)
def accounts_update(staff_id):
    """Change the account's role and scope (and display name)."""
    admin = current_staff()
    user = staff.get_staff(admin, staff_id)
    values = view.form_values(request.form)
    try:
        staff.update_staff(user, values["role"], by=admin, display_name=values["display_name"] or None,
                           **view.scope_args(values))
    except Invalid as error:
        db.session.rollback()
        return _detail_page(staff.get_staff(admin, staff_id), edit=values, error=error)
    flash(f"已保存 {user.username} 的角色与管辖范围")
    return go("console_web.accounts_detail", staff_id=staff_id)


@bp.post(_ID + "/password")
def accounts_reset_password(staff_id):
    """Reset the password to the one typed, or to a generated one shown once; the account's sessions end."""
    admin = current_staff()
    user = staff.get_staff(admin, staff_id)
    typed = request.form.get("new_password", "")
    password = typed or staff.generate_password()
    try:
        staff.reset_password(user, password, by=admin)
    except Invalid as error:
        db.session.rollback()
        return _detail_page(staff.get_staff(admin, staff_id), error=error, failed="password")
    flash(f"已重置 {user.username} 的密码，其登录已全部退出")
    return _to_detail(user, None if typed else password)


def _to_detail(user, generated):
    """To the account's page; a generated password goes along under a one-time key, to be shown there once."""
    if generated is None:
        return go("console_web.accounts_detail", staff_id=user.id)
    key, sealed = view.keep_new_password(current_staff(), user, generated)
    answer = go("console_web.accounts_detail", staff_id=user.id, shown=key)
    answer.set_cookie(view.SHOWN_COOKIE, sealed, max_age=view.SHOWN_TTL, path=_COOKIE_PATH, httponly=True,
                      samesite="Strict", secure=current_app.config["CONSOLE_COOKIE_SECURE"])
    return answer


@bp.post(_ID + "/deactivate")
def accounts_deactivate(staff_id):
    """Deactivate the account (confirmed on the page): it cannot sign in, and its sessions end at once."""
    admin = current_staff()
    user = staff.get_staff(admin, staff_id)
    try:
        staff.deactivate(user, by=admin)
    except Invalid as error:
        db.session.rollback()
        return _detail_page(staff.get_staff(admin, staff_id), error=error, failed="active")
    flash(f"已停用账号 {user.username}，其登录已立即退出")
    return go("console_web.accounts_detail", staff_id=staff_id)


@bp.post(_ID + "/activate")
def accounts_activate(staff_id):
    """Let a deactivated account sign in again with its password."""
    admin = current_staff()
    user = staff.activate(staff.get_staff(admin, staff_id), by=admin)
    flash(f"已启用账号 {user.username}")
    return go("console_web.accounts_detail", staff_id=staff_id)


def _form_page(values, error=None):
    choices, _ = view.scope_names(current_staff())
    return render_page("console/accounts/new.html", status=error.status if error else 200, form=values,
                       error=view.error_text(error) if error else None, errors=(error.fields or {}) if error else {},
                       **view.form_context(choices))


def _detail_page(user, new_password=None, edit=None, error=None, failed="edit", password_gone=False):
    choices, names = view.scope_names(current_staff())
    account = view.account_view(user, names)
    form = edit or {"display_name": user.display_name, "role": user.role,
                    **{column: str(account[column]) if account[column] is not None else "" for column in staff.SCOPE_COLUMNS}}
    audit_links = {"about": url_for("console_web.audit", object_type="staff_user", object_id=user.id),
                   "by": url_for("console_web.audit", actor=f"staff:{user.id}")}
    return render_page("console/accounts/detail.html", status=422 if error else 200, account=account, form=form,
                       new_password=new_password, password_gone=password_gone, error=view.error_text(error) if error else None,
                       errors=(error.fields or {}) if error else {}, failed=failed, audit_links=audit_links,
                       is_self=user.id == current_staff().id, **view.form_context(choices))
