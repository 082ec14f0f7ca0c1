"""What the 互认城市 page shows, assembled from the trust and partners services: this deployment (id, name, counties,
root fingerprint in groups of four, its published list), each partner with the age of its data, and the add form.

No rule lives here: what verifies is `partners.add / sync` (pinned by the fingerprint), when data is stale is
`partners.status` (TRUST_STALE_HOURS), what is published is `trust.published_trust_list`.
"""
from flask import current_app, url_for
from sqlalchemy import select

from app.errors import Invalid
from app.extensions import db
from app.models import County
from app.services.credentials import partners, trust
from console.web import forms

ADMINS = ("admin",)
READERS = ("admin", "health_officer")
SOURCE_WORDS = {partners.UPLOADED: "上传的文件"}


def me():
    """This deployment: id, name, counties by name, root fingerprint (grouped), the published list's URL."""
    found = trust.deployment()
    names = dict(db.session.execute(select(County.code, County.name).where(County.code.in_(found["counties"]))).all())
    fingerprint = trust.root_fingerprint()
    return {**found, "counties": [{"code": code, "name": names.get(code)} for code in found["counties"]],
            "fingerprint": fingerprint, "fingerprint_groups": groups(fingerprint) if fingerprint else [],
            "list_url": url_for("checkin.trust_list", _external=True)}


def groups(fingerprint):
    """A fingerprint in groups of four characters, as it is read aloud over a phone."""
    return [fingerprint[start:start + 4] for start in range(0, len(fingerprint), 4)]


def partner_rows():
    """Each partner as `partners.status` gives it, with source, short fingerprint and last error in words."""
    return [{**row, "source_text": SOURCE_WORDS.get(row["source"], row["source"]),
             "fetchable": row["source"] != partners.UPLOADED,  # an uploaded list is refreshed by uploading again
             "fingerprint_short": " ".join(groups(row["fingerprint"])[:4]), **_error(row["last_error"])}
            for row in partners.status()]


def _error(stored):
    """The last error as stored ("code: 中文") split: the code for machines, the words for the page."""
    code, _, text = (stored or "").partition(": ")
    return {"error_code": code or None, "error_text": text or code or None}


def stale_hours():
    """After how many hours a partner's data counts as stale (TRUST_STALE_HOURS)."""
    return current_app.config["TRUST_STALE_HOURS"]


def add_values(form):
    """What the add form had typed, to show again (the source URL and the fingerprint are not secret)."""
    return forms.given(form, ("source", "fingerprint"))


def source_of(form, files):
    """The list to import: an uploaded file's bytes, else an http(s) URL (never a path on the server); or Invalid."""
    upload = files.get("file")
    if upload is not None and upload.filename:
        return uploaded(files)
    source = (form.get("source") or "").strip()
    if not source.startswith(("http://", "https://")):
        raise Invalid("trust_source_invalid", "请填写对方信任列表的 http(s) 地址，或选择列表文件",
                      fields={"source": "应为 http(s) 地址"})
    return source


def uploaded(files):
    """The bytes of the uploaded list file, or Invalid when none was chosen."""
    upload = files.get("file")
    if upload is None or not upload.filename:
        raise Invalid("trust_source_invalid", "请选择信任列表文件（.json）", fields={"file": "未选择文件"})
    return upload.read(partners.MAX_LIST_BYTES + 1)
