"""Core routes that belong to no face: health check and the offline docs assets."""
import json
import os

import swagger_ui_bundle
from apiflask import APIBlueprint
from flask import send_from_directory

from app.errors import error_response
from app.services.platform import status

bp = APIBlueprint("core", __name__, enable_openapi=True, tag="系统")

_DOCS_ASSETS = swagger_ui_bundle.swagger_ui_path


@bp.get("/healthz")
@bp.doc(summary="服务健康检查", description="数据库与 Redis 是否可达；任一不可达时返回 503（错误格式，附 Retry-After）。")
def healthz():
    """Report whether the database and Redis answer."""
    report = status.check()
    if report["status"] == "ok":
        return report
    # The one error shape (with Retry-After), the report beside it for the operator.
    response = error_response(503, "unavailable", "服务暂时不可用，请稍后再试")
    response.set_data(json.dumps({**response.get_json(), **report}, ensure_ascii=False))
    return response


@bp.get("/docs-assets/<path:filename>")
@bp.doc(hide=True)
def docs_asset(filename):
    """Serve swagger-ui's files locally."""
    return send_from_directory(os.path.abspath(_DOCS_ASSETS), filename, max_age=86400)
