"""The scanner face, /api/checkin/v1: the trust list and revocations scanners verify QR codes with."""
from apiflask import APIBlueprint

bp = APIBlueprint("checkin", __name__, url_prefix="/api/checkin/v1", tag="扫码核验")

from checkin import routes  # noqa: E402,F401  (routes attach to bp)
