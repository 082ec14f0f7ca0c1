"""The staff face, /api/console/v1: staff login, application review, planning and trips."""
from apiflask import APIBlueprint

bp = APIBlueprint("console", __name__, url_prefix="/api/console/v1", tag="控制台（工作人员）")

from console import isolation_routes, roster_routes, routes  # noqa: E402,F401  (routes attach to bp)
