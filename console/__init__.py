"""The staff face, /api/console/v1: staff login, review, planning, trips, enterprises and the office."""
from apiflask import APIBlueprint

bp = APIBlueprint("console", __name__, url_prefix="/api/console/v1", tag="控制台（工作人员）")

from console import routes  # noqa: E402,F401  (routes attach to bp)
from console import enterprise_routes, isolation_routes, office_routes, roster_routes  # noqa: E402,F401
from console import manifest_routes  # noqa: E402,F401
from console import certificate_routes  # noqa: E402,F401
from console import content_routes  # noqa: E402,F401
from console import message_routes  # noqa: E402,F401
