"""Partner deployments (互认伙伴): importing, refreshing and removing the trust lists of other cities.

A partner's list is fetched from its published URL (`GET /api/checkin/v1/trust-list`), or read
from a file carried by hand to an air-gapped office, and used only once it verifies against the
root fingerprint given out of band (`trust_lists.verify_trust_list`). A refresh that fails in any
way keeps the list already stored and records why: a checkpoint keeps recognising the partner
with the data it has, and is told how old that data is (stale → 复核).

`synced_at` is the time the stored data was current: the list's issue time, no later than when it
arrived here. A list fetched by HTTP is signed when asked for, so that is the fetch time; a file
signed three days ago and carried by hand is three days old, however recently it was read.
"""
import json
import pathlib
import time
from datetime import UTC, datetime

import requests
import urllib3
from flask import current_app
from sqlalchemy import select

from app.errors import Conflict, Invalid, NotFound, Unavailable
from app.extensions import db
from app.models import TrustPartner
from app.models.base import utcnow
from app.services.credentials import trust, trust_lists
from app.services.platform import audit

MAX_LIST_BYTES = 2 * 1024 * 1024  # a list holds keys and revoked serials: far below this
MAX_SOURCE = 512  # the width of trust_partners.source
SYSTEM = ("system", None)  # the actor of a change from the command line; the console passes ("staff", id)
UPLOADED = "upload"  # the source of a partner added from a file uploaded in the console: nothing to fetch again
# A trust list refused when importing: (error class, public code) by TrustListError code; the Chinese is
# trust_lists.MESSAGES'.
_REFUSED = {
    "not_a_trust_list": (Invalid, "not_a_trust_list"),
    "fingerprint_mismatch": (Invalid, "fingerprint_mismatch"),
    "signature_invalid": (Invalid, "trust_list_signature_invalid"),
    "list_expired": (Invalid, "trust_list_expired"),
    "list_from_future": (Invalid, "trust_list_from_future"),
}


def add(source, fingerprint, now=None, actor=SYSTEM):
    """Import a partner's trust list from a URL or a file, pinned by its root fingerprint; commits.

    :param source: an http(s) URL of the partner's /trust-list, the path of a saved list, or the bytes of
        an uploaded one (stored as source "upload": it is refreshed by uploading again).
    :param actor: (actor_kind, actor_id) for the audit log.
    :param fingerprint: SHA-256 of the partner's root public key, as they gave it (spaces, colons allowed).
    :raises Invalid: a malformed fingerprint or source, or a list that does not verify against it.
    :raises Unavailable: the URL cannot be fetched. :raises Conflict: our own list, a partner already added,
        or a list whose keys claim a county of this deployment or of another partner (`trust_list_county_taken`).
    The counties the list claims are confirmed by this import: a later sync may not widen them.
    """
    try:
        pin = trust_lists.normal_fingerprint(fingerprint)
    except ValueError:
        raise Invalid("fingerprint_invalid", "根密钥指纹应为 64 位十六进制字符（SHA-256）",
                      fields={"fingerprint": "64 位十六进制"}) from None
    now = now or utcnow()
    source_text = _source_text(source)
    document = _verified(_read(source), pin, now)
    deployment_id = document["deployment"]["id"]
    if deployment_id == current_app.config["DEPLOYMENT_ID"]:
        raise Conflict("own_deployment", "这是本部署自己的信任列表，无需导入")
    if db.session.scalar(select(TrustPartner.id).where(TrustPartner.deployment_id == deployment_id)):
        raise Conflict("partner_exists", f"已导入部署 {deployment_id}：更新请用 flask trust sync，换根密钥请先删除再导入")
    counties = trust_lists.counties_of(document)
    _check_counties_free(counties, deployment_id)
    partner = TrustPartner(deployment_id=deployment_id, name=_name(document), fingerprint=pin, counties=counties,
                           source=source_text, document=document, list_issued_at=_issued(document),
                           synced_at=_current_as_of(document, now), added_at=now, last_attempt_at=now)
    db.session.add(partner)
    db.session.flush()
    audit.record(actor[0], actor[1], "trust.add", "trust_partner", partner.id, deployment_id=deployment_id,
                 name=partner.name, fingerprint=pin, source=partner.source, counties=counties)
    db.session.commit()
    return partner


def sync(deployment_id=None, file=None, now=None, actor=SYSTEM):
    """Refresh partners' lists: every partner from its source, one (`deployment_id`), or one from `file`.

    A list that does not verify, is older than the stored one, names another deployment, claims
    counties beyond those confirmed at add (or now this deployment's or another partner's) or cannot
    be read leaves the stored list in place and sets last_error. With a file and no deployment_id,
    the partner is the one the file names. `file` is a path or the bytes of an uploaded list; `actor` is
    (actor_kind, actor_id) for the audit log. Each partner's outcome is committed on its own, so one
    that fails never loses another's refresh.
    :returns: one dict per partner: deployment_id, name, ok, error (code or None), message, synced_at.
    :raises NotFound: no such partner. :raises Invalid: the file cannot be read as a list.
    """
    now = now or utcnow()
    if file is not None:
        document = _read(file)
        if deployment_id is None:
            deployment_id = _deployment_of(document)
        chosen = [_partner(deployment_id)]
    else:
        # A partner added from an uploaded file has no source to fetch: a sync of all leaves it to the next upload.
        chosen = [_partner(deployment_id)] if deployment_id else [partner for partner in trust.partners()
                                                                   if partner.source != UPLOADED]
    results = []
    for partner in chosen:
        try:
            _refresh(partner, document if file is not None else _read(partner.source), now)
            error, message = None, "已更新"
        except (Invalid, Conflict, Unavailable) as refused:
            error, message = refused.code, refused.message
            partner.last_error = f"{error}: {message}"[:255]
        partner.last_attempt_at = now
        audit.record(actor[0], actor[1], "trust.sync", "trust_partner", partner.id, deployment_id=partner.deployment_id,
                     ok=error is None, error=error, source="file" if file is not None else partner.source)
        results.append({"deployment_id": partner.deployment_id, "name": partner.name, "ok": error is None,
                        "error": error, "message": message, "synced_at": partner.synced_at})
        db.session.commit()
    return results


def _refresh(partner, document, now):
    """Replace the partner's stored list with a newer one that verifies, or raise why not."""
    document = _verified(document, partner.fingerprint, now)
    if document["deployment"]["id"] != partner.deployment_id:
        raise Conflict("trust_list_wrong_deployment",
                       f"该信任列表属于部署 {document['deployment']['id']}，不是 {partner.deployment_id}")
    issued = _issued(document)
    if issued < partner.list_issued_at:
        raise Conflict("trust_list_older", "该信任列表比已导入的更旧，未替换")
    counties = trust_lists.counties_of(document)
    widened = sorted(set(counties) - set(partner.counties))
    if widened:
        raise Conflict("trust_list_counties_widened",
                       f"该信任列表新增了导入时未确认的区县 {'、'.join(widened)}，未替换；"
                       "核实后删除再重新导入（flask trust remove / add）即为确认")
    _check_counties_free(counties, partner.deployment_id)
    partner.document, partner.name, partner.list_issued_at = document, _name(document), issued
    partner.synced_at = max(partner.synced_at, _current_as_of(document, now))
    partner.last_error = None


def remove(deployment_id, actor=SYSTEM):
    """Stop recognising a partner online at once: its list goes, its certificates become unknown_issuer; commits.

    A captain's offline bundle downloaded before still carries the partner until its data is stale.
    """
    partner = _partner(deployment_id)
    audit.record(actor[0], actor[1], "trust.remove", "trust_partner", partner.id, deployment_id=partner.deployment_id,
                 name=partner.name, fingerprint=partner.fingerprint)
    db.session.delete(partner)
    db.session.commit()
    return partner


def status(now=None):
    """Each partner as `flask trust list` shows it: identity, source, how old its data is, the last error, counts."""
    now = now or utcnow()
    stale_after = current_app.config["TRUST_STALE_HOURS"]
    shown = []
    for partner in trust.partners():
        age = max(0.0, (now - partner.synced_at).total_seconds() / 3600)
        issuer = trust.partner_issuer(partner)
        shown.append({
            "deployment_id": partner.deployment_id, "name": partner.name, "fingerprint": partner.fingerprint,
            "source": partner.source, "synced_at": partner.synced_at, "age_hours": round(age, 1),
            "stale": age > stale_after, "last_attempt_at": partner.last_attempt_at, "last_error": partner.last_error,
            "counties": list(partner.counties),
            "list_issued_at": partner.list_issued_at, "expired": _valid_until(partner.document) < now,
            "keys": {use: sum(1 for key in issuer.keys if key.use == use) for use in trust_lists.KEY_USES},
            "revoked": len(issuer.revoked),
        })
    return shown


def _check_counties_free(counties, deployment_id):
    """Refuse counties another issuer speaks for: this deployment's, or another partner's confirmed ones."""
    ours = sorted(set(counties) & set(current_app.config["DEPLOYMENT_COUNTIES"]))
    if ours:
        raise Conflict("trust_list_county_taken",
                       f"信任列表声称可为本部署的区县 {'、'.join(ours)} 签发证明，拒绝导入")
    others = db.session.scalars(select(TrustPartner).where(TrustPartner.deployment_id != deployment_id)).all()
    for other in others:
        shared = sorted(set(counties) & set(other.counties))
        if shared:
            raise Conflict("trust_list_county_taken",
                           f"信任列表声称可为区县 {'、'.join(shared)} 签发证明，而这些区县属于已导入的部署 "
                           f"{other.deployment_id} {other.name}，拒绝导入")


def _partner(deployment_id):
    partner = db.session.scalar(select(TrustPartner).where(TrustPartner.deployment_id == str(deployment_id)))
    if partner is None:
        raise NotFound("partner_not_found", f"没有导入部署 {deployment_id} 的信任列表")
    return partner


def _verified(document, pin, now):
    try:
        document = trust_lists.verify_trust_list(document, pin, int(now.replace(tzinfo=UTC).timestamp()))
    except trust_lists.TrustListError as error:
        kind, code = _REFUSED[error.code]
        raise kind(code, str(error)) from None
    return document


def _read(source):
    """The JSON document at a URL (fetched with TRUST_SYNC_TIMEOUT), in a file, or in uploaded bytes."""
    text = "" if isinstance(source, bytes) else str(source)
    if isinstance(source, bytes):
        raw = source[:MAX_LIST_BYTES + 1]
    elif text == UPLOADED:
        raise Invalid("trust_source_invalid", "该信任列表是上传的文件，没有可获取的地址：请上传新的列表文件")
    elif text.startswith(("http://", "https://")):
        try:
            raw = _fetch(text)
        except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
            raise Unavailable("trust_list_unreachable", f"无法获取信任列表：{type(error).__name__}") from None
    elif "://" in text:
        raise Invalid("trust_source_invalid", "信任列表来源应为 http(s) 地址或文件路径")
    else:
        try:
            with pathlib.Path(text).open("rb") as handle:
                raw = handle.read(MAX_LIST_BYTES + 1)
        except OSError as error:
            raise Invalid("trust_source_invalid", f"无法读取信任列表文件：{error.strerror or error}") from None
    if len(raw) > MAX_LIST_BYTES:
        raise Invalid("not_a_trust_list", "信任列表过大，不是本格式的列表")
    try:
        document = json.loads(raw)
    except ValueError:
        raise Invalid("not_a_trust_list", "信任列表不是 JSON") from None
    if not isinstance(document, dict):
        raise Invalid("not_a_trust_list", "信任列表应为 JSON 对象")
    return document


def _fetch(url):
    """The body at a URL, at most MAX_LIST_BYTES + 1 bytes, within TRUST_SYNC_TIMEOUT seconds in all.

    A connection that stalls or drops mid-body raises urllib3's ReadTimeoutError or ProtocolError (not a
    RequestException: the caller catches both). requests' timeout bounds each read only, so the body is
    read with read1 (whatever has arrived) and cut at the deadline: a server sending a byte now and then
    cannot hold a sync for ever.
    """
    timeout = current_app.config["TRUST_SYNC_TIMEOUT"]
    deadline = time.monotonic() + timeout
    body = bytearray()
    with requests.get(url, timeout=timeout, stream=True, headers={"Accept": "application/json"}) as response:
        response.raise_for_status()
        while len(body) <= MAX_LIST_BYTES:
            chunk = response.raw.read1(64 * 1024, decode_content=True)
            if not chunk:
                break
            body += chunk
            if time.monotonic() > deadline:
                raise requests.Timeout(f"no whole answer within {timeout} s")
    return bytes(body)


def _deployment_of(document):
    deployment = document.get("deployment")
    if not isinstance(deployment, dict) or not isinstance(deployment.get("id"), str):
        raise Invalid("not_a_trust_list", "信任列表未写明所属部署")
    return deployment["id"]


def _source_text(source):
    """The source as stored: a URL as given, a file by its absolute path, "upload" for uploaded bytes; refused past
    MAX_SOURCE characters."""
    if isinstance(source, bytes):
        return UPLOADED
    text = str(source)
    text = text if text.startswith(("http://", "https://")) else str(pathlib.Path(text).resolve())
    if len(text) > MAX_SOURCE:
        raise Invalid("trust_source_invalid", f"信任列表来源过长（至多 {MAX_SOURCE} 个字符）")
    return text


def _name(document):
    return document["deployment"].get("name") or document["deployment"]["id"]  # lengths checked by trust_lists


def _issued(document):
    return datetime.fromtimestamp(trust_lists.issued_at(document), UTC).replace(tzinfo=None)


def _valid_until(document):
    return datetime.fromtimestamp(trust_lists.valid_until(document), UTC).replace(tzinfo=None)


def _current_as_of(document, now):
    return min(_issued(document), now)
