"""The worker's face: the mini-program API under /api/mp/v1."""
from apiflask import APIBlueprint

bp = APIBlueprint("mp", __name__, url_prefix="/api/mp/v1", tag="小程序（务工人员）")

from miniprogram_api import routes, trip_routes, vacancy_routes  # noqa: E402,F401  (routes attach to bp)
from miniprogram_api import certificate_routes  # noqa: E402,F401
from miniprogram_api import message_routes  # noqa: E402,F401
