"""Core routes that belong to no face: health check and the offline docs assets."""
import os

import swagger_ui_bundle
from apiflask import APIBlueprint
from flask import send_from_directory

from app.services import status

bp = APIBlueprint("core", __name__, enable_openapi=True, tag="系统")

_DOCS_ASSETS = swagger_ui_bundle.swagger_ui_path


@bp.get("/healthz")
@bp.doc(summary="服务健康检查", description="数据库与 Redis 是否可达；任一不可达时返回 503。")
def healthz():
    """Report whether the database and Redis answer."""
    report = status.check()
    return report, (200 if report["status"] == "ok" else 503)


@bp.get("/docs-assets/<path:filename>")
@bp.doc(hide=True)
def docs_asset(filename):
    """Serve swagger-ui's files locally."""
    return send_from_directory(os.path.abspath(_DOCS_ASSETS), filename, max_age=86400)
