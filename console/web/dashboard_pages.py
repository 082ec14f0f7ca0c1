"""看板 (the office's dashboard) at /console: large figures and charts from `stats.dashboard`, the service
GET /api/console/v1/stats answers from, with the same filters (StatsIn) and the same scope.

/console is the dashboard for the roles of its menu entry; anyone else is sent to the first page of
their menu, as before, unless they ask for figures (a filter in the URL): then the 403 page, as the API. A county outside the caller's scope is refused as the API refuses it (403).
With htmx, a filter or 刷新 swaps only the figures (`_figures.html`) and puts the filter in the URL.
"""
from datetime import UTC, datetime

from flask import redirect, request, url_for
from marshmallow import ValidationError

from app.errors import Invalid
from app.services.office import stats
from console.web import bp
from console.web import dashboard_view as view
from console.web.layout import menu_for, render_page
from console.web.session import current_staff


@bp.get("", endpoint="dashboard")
@bp.get("/", endpoint="dashboard")
def dashboard():
    """The dashboard for the caller's area and filters; other roles go to the first page of their menu."""
    staff = current_staff()
    entries = dict(menu_for(staff))
    partial = request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request")
    if "console_web.dashboard" not in entries and not (request.args or partial):
        return redirect(url_for(next(iter(entries), "console_web.password")))
    # Asked for figures (a filter, htmx), any role gets the service's answer: 403 page for a role without them.
    filters = view.given(request.args)
    template = "console/dashboard/_figures.html" if partial else "console/dashboard/index.html"
    page = {"filters": filters, "bar": view.filter_bar(staff), "as_of": datetime.now(UTC),
            "self_url": url_for("console_web.dashboard", **filters)}
    try:
        query = view.parse_filters(request.args)
        figures = stats.dashboard(staff, query.get("county"), query.get("date_from"), query.get("date_to"))
    except ValidationError as error:
        message = view.error_text(error.messages)
    except Invalid as error:
        message = view.error_text(error.fields or {}, error.message)
    else:
        return render_page(template, stats=figures, figures=view.figures(figures), charts=view.charts(figures), **page)
    # htmx swaps no 4xx answer: the figures' place says what is wrong instead.
    return render_page(template, status=200 if partial else 422, error=message, **page)


# /console/ stays `console_web.home` for every link to the console's first page (header, breadcrumb, sign-in).
bp.add_url_rule("/", endpoint="home", view_func=dashboard, build_only=True)
