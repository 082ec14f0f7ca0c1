"""Handlers of the scanner API."""
import base64

from flask import current_app, jsonify, request

from app.conflicts import rerunnable
from app.errors import Forbidden
from app.extensions import limiter, per_token
from app.services.credentials import credentials, signing, trust
from app.services.scanning import certificate_scans, checkin, checkin_batch, closing, manifests
from checkin import bp
from checkin import schemas as s
from checkin.auth import auth, current_scanner


@bp.get("/keys")
@bp.output(s.KeysOut)
@bp.doc(summary="公钥信任列表：离线验证二维码所需")
def keys():
    """The published trust list: every key that signs or signed trip credentials."""
    return {
        "prefix": credentials.PREFIX,
        "keys": [
            {"kid": key.kid, "algorithm": key.algorithm, "public_key": base64.b64encode(key.public_key).decode(),
             "valid_from": key.valid_from, "retired_at": key.retired_at}
            for key in signing.trust_list()
        ],
    }


@bp.get("/trust-list")
@bp.doc(summary="本部署的互认信任列表（根密钥签名）：签发密钥、可代表的县区、撤销的健康证明",
        responses={503: "尚未生成根密钥（flask keys ensure）"})
def trust_list():
    """This deployment's signed trust list, which partners import pinned by the root key's fingerprint."""
    return jsonify(trust.published_trust_list())


@bp.get("/revocations")
@bp.input(s.RevocationsIn, location="query", arg_name="query")
@bp.output(s.RevocationsOut)
@bp.doc(summary="作废的二维码序列号（增量，按 cursor 续取）")
def revocations(query):
    """Revoked serials after the cursor; call again with the returned cursor while `more`."""
    rows, cursor, more = signing.revocations_since(query["since"], kind=query["kind"])
    return {"revocations": rows, "cursor": cursor, "more": more}


_TRIP = "<int(max=2147483647):trip_id>"
_ERRORS = {401: "未登录", 403: "无权扫码或不在扫码时间", 404: "没有该车次", 409: "状态冲突", 422: "请求参数有误"}


def _errors(*codes):
    return {code: _ERRORS[code] for code in codes}


_UNLIMITED = {"checkin.scan", "checkin.scan_batch"}


@limiter.request_filter
def _scans_are_not_limited():
    """Scans carry no rate limit (a checkpoint's queue is their load): spare them Flask-Limiter's per-request check.

    A limit decorated on these two routes would be ignored; limit elsewhere, or drop them from _UNLIMITED.
    """
    return request.endpoint in _UNLIMITED


@bp.post("/scans")
@bp.auth_required(auth)
@bp.input(s.ScanIn, arg_name="body")
@bp.output(s.ScanOut)
@bp.doc(summary="扫码核验（在线）：上车、到达、卡口", responses=_errors(401, 403, 422))
def scan(body):
    """Judge one scan; every scan is stored, a retried client_event_id returns the first answer."""
    # The answer is serialized field by field in checkin._answer (as ScanOut documents it): no second pass.
    return jsonify(checkin.perform_scan(current_scanner(), _scan_fields(body)))


@bp.post("/scans/batch")
@bp.auth_required(auth)
@bp.input(s.ScanBatchIn, arg_name="body")
@bp.output(s.ScanBatchOut)
@bp.doc(summary="离线扫码批量上传（最多 500 条），每条一个结果", responses=_errors(401, 403, 422))
@rerunnable  # a step the first run committed is replayed by its client_event_id, not stored twice
def scan_batch(body):
    """Upload scans collected offline; each is judged as of its scanned_at."""
    results = checkin_batch.perform_batch(current_scanner(), [_scan_fields(item) for item in body["scans"]])
    return jsonify({"results": results})  # answers serialized in checkin._answer, as for one scan


def _scan_fields(body):
    return {**body, "client_event_id": str(body["client_event_id"])}


def _no_id_check():
    """A verification without an ID number costs a signature check: only ID checks (scrypt, 0.1 s) are limited."""
    return not (request.get_json(silent=True) or {}).get("id_number")


_ID_CHECKS = limiter.shared_limit(lambda: current_app.config["CERTIFICATE_ID_CHECK_RATE_LIMIT"], scope="id_checks",
                                  key_func=per_token, exempt_when=_no_id_check)


@bp.post("/certificates/verify")
@_ID_CHECKS
@bp.auth_required(auth)
@bp.input(s.CertificateVerifyIn, arg_name="body")
@bp.output(s.CertificateVerifyOut)
@bp.doc(summary="核验健康证明（本地与互认城市签发）：accept / recheck（复核）/ reject 及原因",
        responses=_errors(401, 403, 422))
def verify_certificate(body):
    """Verify a health certificate for checkpoint staff or the admin; a refused one is a 200 with its reason."""
    return certificate_scans.verify_for(current_scanner(), body["qr"], body.get("id_number"), body.get("name"))


@bp.post("/certificates/register")
@_ID_CHECKS
@bp.auth_required(auth)
@bp.input(s.CertificateRegisterIn, arg_name="body")
@bp.output(s.CertificateRegisterOut)
@bp.doc(summary="卡口登记持外地健康证明到达、本地无档案的人员，并记录到达", responses=_errors(401, 403, 409, 422))
def register_certificate_arrival(body):
    """Register the holder of a partner's certificate from it and the ID card, and record their arrival."""
    return jsonify(certificate_scans.register_arrival(current_scanner(), _scan_fields(body)))


@bp.get(f"/trips/{_TRIP}/manifest")
@bp.auth_required(auth)
@bp.output(s.ManifestOut)
@bp.doc(summary="本车乘客名单与状态", responses=_errors(401, 404))
def trip_manifest(trip_id):
    """Every seat of the trip with masked identity, status and health."""
    return manifests.manifest(manifests.trip_for_scanner(current_scanner(), trip_id))


@bp.get(f"/trips/{_TRIP}/reconciliation")
@bp.auth_required(auth)
@bp.output(s.ReconciliationOut)
@bp.doc(summary="上车、到达、缺失核对（本车与本班组）", responses=_errors(401, 404))
def trip_reconciliation(trip_id):
    """Boarded against arrived against missing, for the trip and its convoy."""
    return manifests.reconciliation(manifests.trip_for_scanner(current_scanner(), trip_id))


@bp.get(f"/trips/{_TRIP}/offline-bundle")
@bp.auth_required(auth)
@bp.doc(summary="离线包：名单、公钥、作废列表、互认的健康证明签发方，服务器签名", responses=_errors(401, 404))
def trip_offline_bundle(trip_id):
    """Everything a captain's phone needs to scan with no network, signed by the server."""
    return manifests.offline_bundle(manifests.trip_for_scanner(current_scanner(), trip_id))


@bp.post(f"/trips/{_TRIP}/close")
@bp.auth_required(auth)
@bp.input(s.TripCloseIn, arg_name="body")
@bp.output(s.TripClosedOut)
@bp.doc(summary="结束车次：发车时间已到且无人还能上车；有未上车乘客时须确认人数",
        responses=_errors(401, 404, 409, 422))
def close_trip(trip_id, body):
    """Close the trip; later online scans for it are refused, uploads flagged."""
    trip = closing.close_trip(current_scanner(), trip_id, body.get("confirm_no_shows"))
    return {"trip_id": trip.id, "status": trip.status, "closed_at": trip.closed_at}


@bp.get("/checkpoints/<int(max=2147483647):checkpoint_id>/expected")
@bp.auth_required(auth)
@bp.output(s.ExpectedOut)
@bp.doc(summary="卡口待到人员：预计到达车次与乘客健康状态，异常者在前", responses=_errors(401, 403, 404))
def checkpoint_expected(checkpoint_id):
    """Trips heading to the checkpoint and their passengers, flagged ones first."""
    scanner = current_scanner()
    if scanner.role != "admin" and scanner.checkpoint_id != checkpoint_id:
        raise Forbidden("wrong_checkpoint", "只能查看本卡口的待到人员")
    return {"checkpoint_id": checkpoint_id, "trips": manifests.expected_at(checkpoint_id)}
