"""Handlers of the scanner API."""
import base64

from app.services import credentials, signing
from checkin import bp
from checkin import schemas as s


@bp.get("/keys")
@bp.output(s.KeysOut)
@bp.doc(summary="公钥信任列表：离线验证二维码所需")
def keys():
    """The published trust list: every key that signs or signed trip credentials."""
    return {
        "prefix": credentials.PREFIX,
        "keys": [
            {"kid": key.kid, "algorithm": key.algorithm, "public_key": base64.b64encode(key.public_key).decode(),
             "valid_from": key.valid_from, "valid_until": key.retired_at}
            for key in signing.trust_list()
        ],
    }


@bp.get("/revocations")
@bp.input(s.RevocationsIn, location="query", arg_name="query")
@bp.output(s.RevocationsOut)
@bp.doc(summary="作废的二维码序列号（增量，按 cursor 续取）")
def revocations(query):
    """Revoked serials after the cursor; call again with the returned cursor while `more`."""
    rows, cursor, more = signing.revocations_since(query["since"])
    return {"revocations": rows, "cursor": cursor, "more": more}
