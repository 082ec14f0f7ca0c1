"""The staff console in the browser, /console: server-rendered pages over the same services and scopes as the API.

`session.py` signs staff in with a cookie and guards every request (CSRF, CSP, idle sign-out);
`layout.py` gives every page its menu, header and flash messages; each page module holds the
handlers of one menu entry and calls the domain services, never a rule of its own.
"""
from apiflask import APIBlueprint

# An APIBlueprint only so APIFlask can skip it: pages are not part of the OpenAPI document.
bp = APIBlueprint("console_web", __name__, url_prefix="/console", template_folder="templates",
                  static_folder="static", static_url_path="/static", enable_openapi=False)

from console.web import (  # noqa: E402,F401  (routes attach to bp)
    accounts_pages,
    applications_pages,
    assets,
    audit_pages,
    auth_pages,
    certificates_pages,
    checkpoint_pages,
    content_pages,
    dashboard_pages,
    enterprises_pages,
    errors,
    isolation_pages,
    layout,
    liaison_pages,
    messages_pages,
    notifications_pages,
    planning_pages,
    roster_pages,
    session,
    trips_pages,
    trust_pages,
    words,
)
