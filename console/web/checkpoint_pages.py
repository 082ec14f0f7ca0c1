"""卡口扫码 (checkpoint scan station): the scan input, the verdict, and the checkpoint's expected arrivals.

The page itself judges nothing: its script posts each scan to the scanner API (POST
/api/checkin/v1/scans, offline queue through /scans/batch) with this session's cookie and CSRF
token, so the station and the captains' phones share one route and one rule. The expected list is
the service behind GET /api/checkin/v1/checkpoints/<id>/expected, for the staff member's own checkpoint.
A health certificate (健康证明, another city's too) goes through the same scan route; the holder of a
partner's certificate with no record here is registered in place (POST /certificates/register).
"""
import json

from flask import render_template, url_for

from app.errors import NotFound
from app.extensions import db
from app.models import Checkpoint
from app.models.base import utcnow
from app.services.credentials.certificate_documents import OBSERVATION_WORDS, STATUS_WORDS
from app.services.credentials.recognition import CERTIFICATE_PREFIX
from app.services.people.health_rules import SYMPTOMS
from app.services.platform import scope
from app.services.scanning import manifests
from app.services.scanning.scan_rules import RECHECK_REASONS
from console.web import bp, words
from console.web.layout import render_page
from console.web.session import current_staff

STATION_ROLES = ("checkpoint_staff",)
SEAT_NAMES, HEALTH_NAMES = words.names(words.SEAT), words.names(words.HEALTH)


def _own_checkpoint():
    """The checkpoint of the signed-in checkpoint officer (403 page for other roles)."""
    staff = current_staff()
    scope.require_role(staff, STATION_ROLES)
    place = db.session.get(Checkpoint, staff.checkpoint_id) if staff.checkpoint_id is not None else None
    if place is None:
        raise NotFound("checkpoint_not_found", "没有该卡口")
    return place


@bp.get("/checkpoint")
def checkpoint():
    """The scan station: scan input, temperature, camera, verdict, offline queue, expected arrivals."""
    place = _own_checkpoint()
    station = {
        "checkpoint": place.id, "scans": url_for("checkin.scan"), "batch": url_for("checkin.scan_batch"),
        "recheck": list(RECHECK_REASONS), "health": HEALTH_NAMES,
        "zxing": url_for("console_web.vendor", name="zxing-browser.min.js"),
        "certificate": _certificate_station(),
    }
    return render_page("console/checkpoint/station.html", place=place, symptoms=SYMPTOMS,
                       station=json.dumps(station, ensure_ascii=False), **_expected(place))


@bp.get("/checkpoint/expected")
def checkpoint_expected():
    """The expected arrivals fragment, flagged passengers first (the page refreshes it by itself)."""
    return render_template("console/checkpoint/_expected.html", **_expected(_own_checkpoint()))


def _certificate_station():
    """What the script needs for health certificates (互认): the register route, the prefix, the basis in words.

    The prefix only tells the script that a text does not wait in the offline queue (a partner's holder is
    registered online, ID card in hand); every certificate is judged by the server, through the scan route, like a
    trip QR, whose answer says when the holder can be registered (`registrable`).
    """
    return {"register": url_for("checkin.register_certificate_arrival"), "prefix": CERTIFICATE_PREFIX,
            "status_words": STATUS_WORDS,
            "observation_words": OBSERVATION_WORDS}


def _expected(place):
    return {"trips": manifests.expected_at(place.id), "updated_at": utcnow(), "seat_names": SEAT_NAMES,
            "health_names": HEALTH_NAMES}
