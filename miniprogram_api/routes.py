"""Handlers of the mini-program API: parse, authorize, call one service, serialize."""
from flask import current_app, g

from app.extensions import limiter, per_token
from app.services.office import reference_data
from app.services.people import health, privacy, workers
from app.services.platform import tokens
from app.services.transport import applications
from miniprogram_api import bp
from miniprogram_api import schemas as s
from miniprogram_api.auth import auth, current_worker

ERRORS = {400: "请求格式有误", 401: "未登录或登录已过期", 404: "未找到", 409: "与当前状态冲突",
          422: "请求参数有误", 429: "请求过于频繁", 503: "依赖的服务不可用"}


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.post("/session")
@limiter.limit(_login_limit)
@bp.input(s.LoginIn, arg_name="body")
@bp.output(s.LoginOut, status_code=201)
@bp.doc(summary="微信登录", responses={k: ERRORS[k] for k in (401, 422, 429, 503)})
def login(body):
    """Exchange a wx.login() code for a bearer token."""
    worker, token, expires_in = workers.login(body["code"])
    return {"token": token, "expires_in": expires_in, "worker": worker}


@bp.delete("/session")
@bp.auth_required(auth)
@bp.output({}, status_code=204)
@bp.doc(summary="退出登录（吊销当前 token）")
def logout():
    """Revoke the token this request came with."""
    tokens.revoke_token(g.auth_token)
    return ""


@bp.get("/privacy-notice")
@bp.output(s.PrivacyNoticeOut)
@bp.doc(summary="隐私说明")
def privacy_notice():
    """The privacy notice the worker consents to."""
    return privacy.notice()


@bp.get("/reference")
@bp.output(s.ReferenceOut)
@bp.doc(summary="选项数据：县区、企业、症状")
def reference():
    """Pickers for the mini-program's forms."""
    return reference_data.for_forms()


@bp.get("/me")
@bp.auth_required(auth)
@bp.output(s.WorkerOut)
@bp.doc(summary="我的个人信息", responses={401: ERRORS[401]})
def get_me():
    """The worker's own profile, identity fields masked."""
    return current_worker()


@bp.put("/me")
@limiter.limit(lambda: current_app.config["PROFILE_RATE_LIMIT"], key_func=per_token)
@bp.auth_required(auth)
@bp.input(s.ProfileIn, arg_name="body")
@bp.output(s.WorkerOut)
@bp.doc(summary="填写或修改个人信息（只改提交的字段）", responses={k: ERRORS[k] for k in (401, 409, 422)})
def put_me(body):
    """Update the worker's profile; consent must come first or with it."""
    return workers.update_profile(current_worker(), dict(body))


@bp.post("/me/phone")
@limiter.limit(lambda: current_app.config["PROFILE_RATE_LIMIT"], key_func=per_token)
@bp.auth_required(auth)
@bp.input(s.PhoneIn, arg_name="body")
@bp.output(s.WorkerOut)
@bp.doc(summary="用微信手机号快速验证填写手机号（getPhoneNumber 的 code）",
        responses={k: ERRORS[k] for k in (401, 422, 429, 503)})
def verify_phone(body):
    """Exchange a getPhoneNumber code for the worker's verified mobile; typing it (PUT /me) stays the fallback."""
    return workers.verify_mobile(current_worker(), body["code"])


@bp.post("/health-declarations")
@limiter.limit(lambda: current_app.config["PROFILE_RATE_LIMIT"], key_func=per_token)
@bp.auth_required(auth)
@bp.input(s.DeclarationIn, arg_name="body")
@bp.output(s.DeclarationOut, status_code=201)
@bp.doc(summary="健康申报", responses={k: ERRORS[k] for k in (401, 422)})
def declare(body):
    """Record today's health declaration and return the status it leads to."""
    event, status = health.declare(current_worker(), **body)
    return {"event": event, "health": status}


@bp.get("/health")
@bp.auth_required(auth)
@bp.output(s.HealthOut)
@bp.doc(summary="我的健康状态与记录", responses={401: ERRORS[401]})
def get_health():
    """Status (with reason) derived from the record, and the record itself."""
    return health.record_of(current_worker())


@bp.post("/applications")
@bp.auth_required(auth)
@bp.input(s.ApplicationIn, arg_name="body")
@bp.output(s.ApplicationOut, status_code=201)
@bp.doc(summary="出行报名", responses={k: ERRORS[k] for k in (401, 409, 422)})
def submit_application(body):
    """Apply to travel out of or back to Yinchuan."""
    return applications.submit(current_worker(), dict(body))


@bp.get("/applications")
@bp.auth_required(auth)
@bp.output(s.ApplicationListOut)
@bp.doc(summary="我的出行报名", responses={401: ERRORS[401]})
def list_applications():
    """The worker's applications, newest first."""
    return {"items": applications.list_for(current_worker())}


@bp.get("/applications/<int(max=2147483647):application_id>")
@bp.auth_required(auth)
@bp.output(s.ApplicationOut)
@bp.doc(summary="报名详情", responses={k: ERRORS[k] for k in (401, 404)})
def get_application(application_id):
    """One of the worker's own applications."""
    return applications.get_for(current_worker(), application_id)


@bp.post("/applications/<int(max=2147483647):application_id>/cancel")
@bp.auth_required(auth)
@bp.output(s.ApplicationOut)
@bp.doc(summary="取消报名", responses={k: ERRORS[k] for k in (401, 404, 409)})
def cancel_application(application_id):
    """Cancel one of the worker's own applications."""
    return applications.cancel(current_worker(), application_id)
