"""The worker's trips and trip QR code."""
from flask import Response

from app.services.transport import travel
from miniprogram_api import bp
from miniprogram_api import schemas as s
from miniprogram_api.auth import auth, current_worker

_ID = "<int(max=2147483647):trip_id>"


@bp.get("/trips")
@bp.auth_required(auth)
@bp.output(s.TripListOut)
@bp.doc(summary="我的车次", responses={401: "未登录"})
def list_trips():
    """The worker's published trips, soonest first."""
    return {"items": [s.trip_summary(trip, seat) for trip, seat in travel.trips_for_worker(current_worker())]}


@bp.get(f"/trips/{_ID}")
@bp.auth_required(auth)
@bp.output(s.TripDetailOut)
@bp.doc(summary="车次详情：发车时间地点、车牌、座位、车长电话、防疫须知", responses={401: "未登录", 404: "没有该车次"})
def get_trip(trip_id):
    """Details of one of the worker's trips; the captain's phone in full for passengers only."""
    return s.trip_detail(travel.trip_details(current_worker(), trip_id))


@bp.get(f"/trips/{_ID}/qrcode")
@bp.auth_required(auth)
@bp.output(s.CredentialOut)
@bp.doc(summary="乘车二维码（文本）", responses={401: "未登录", 404: "没有该车次", 503: "签名密钥未配置"})
def qrcode_text(trip_id):
    """The signed credential text of the worker's seat."""
    return travel.credential(current_worker(), trip_id)


@bp.get(f"/trips/{_ID}/qrcode.png")
@bp.auth_required(auth)
@bp.output({}, content_type="image/png")
@bp.doc(summary="乘车二维码（图片）", responses={401: "未登录", 404: "没有该车次", 503: "签名密钥未配置"})
def qrcode_png(trip_id):
    """The credential drawn as a QR code (PNG)."""
    png = travel.credential_png(current_worker(), trip_id)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=300"})
