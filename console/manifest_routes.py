"""Handlers of passenger manifests as .xlsx (乘车名单): a trip, its convoy, or a day's trips, one sheet per vehicle."""
from app.services.platform.timeutil import local_today
from app.services.scanning import manifest_sheets
from console import bp
from console import schemas as s
from console.auth import auth, current_staff
from console.downloads import XLSX_RESPONSE, xlsx_download
from console.routes import _errors


@bp.get("/trips/<int(max=2147483647):trip_id>/manifest.xlsx")
@bp.auth_required(auth)
@bp.input(s.ManifestExportIn, location="query", arg_name="query")
@bp.doc(summary="导出车次乘车名单（.xlsx，每车一张表，身份信息脱敏；convoy=true 导出整个班组）",
        responses={200: XLSX_RESPONSE, **_errors(401, 403, 404, 422)})
def export_trip_manifest(trip_id, query):
    """A vehicle's (or its convoy's) manifest as an Excel file to print; audited."""
    data = manifest_sheets.trip_workbook(current_staff(), trip_id, query["convoy"])
    kind, name = ("convoy", "班组乘车名单") if query["convoy"] else ("trip", "乘车名单")
    return xlsx_download(data, f"{name}-车次{trip_id}.xlsx", f"manifest-{kind}-{trip_id}.xlsx")


@bp.get("/trips/manifests.xlsx")
@bp.auth_required(auth)
@bp.input(s.TripListIn, location="query", arg_name="query")
@bp.doc(summary="导出某日全部车次的乘车名单（.xlsx，每车一张表；默认今天，可按状态筛选）",
        responses={200: XLSX_RESPONSE, **_errors(401, 403, 422)})
def export_day_manifests(query):
    """The manifests of a day's trips in the caller's scope, one sheet per vehicle; audited."""
    day = query.get("date") or local_today()
    data = manifest_sheets.day_workbook(current_staff(), day, query.get("status"))
    return xlsx_download(data, f"乘车名单-{day.isoformat()}.xlsx", f"manifests-{day.isoformat()}.xlsx")
