"""Sign in, sign out and change password: the same accounts, throttling and password rules as the API."""
from flask import current_app, g, redirect, request, url_for
from flask_limiter.util import get_remote_address

from app.errors import DomainError
from app.extensions import limiter
from app.services.accounts import staff
from app.services.platform import tokens
from console.web import bp
from console.web import session as web_session
from console.web.layout import flash, go, render_page


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["STAFF_LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    """The sign-in form; a good password starts a session and goes on to the page asked for."""
    next_url = web_session.safe_next(request.values.get("next"))
    if request.method == "GET":
        if web_session.current_staff() is not None:
            return redirect(next_url)
        return render_page("console/login.html", next_url=next_url, username="")
    username = request.form.get("username", "").strip()[:64]
    try:
        _, token, _ = staff.login(username, request.form.get("password", "")[:256], get_remote_address())
    except DomainError as error:
        status = error.status if error.status in (401, 429) else 422
        return render_page("console/login.html", status=status, next_url=next_url, username=username,
                           error=error.message)
    return web_session.start(redirect(next_url), token)


@bp.post("/logout")
def logout():
    """End this session (its token is revoked) and return to the sign-in form."""
    tokens.revoke_token(g.web_token)
    return web_session.end(redirect(url_for("console_web.login")))


@bp.route("/password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["STAFF_LOGIN_RATE_LIMIT"], methods=["POST"])
def password():
    """The signed-in staff member's account, and the form to change their password."""
    if request.method == "GET":
        return render_page("console/password.html")
    new, again = request.form.get("new_password", ""), request.form.get("new_password_again", "")
    if new != again:
        return render_page("console/password.html", status=422, errors={"new_password_again": "两次输入的新密码不一致"})
    try:
        staff.change_password(web_session.current_staff(), request.form.get("current_password", ""), new,
                              get_remote_address(), keep_token=g.web_token)
    except DomainError as error:
        if error.status != 422:
            raise
        return render_page("console/password.html", status=422, errors=error.fields or {}, error=error.message)
    flash("密码已修改；其他设备上的登录已退出")
    return go("console_web.password")
