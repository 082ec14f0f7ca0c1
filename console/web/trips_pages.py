"""车次（一车一方案）: the trip list, a trip's plan and its edit form, printable manifests and reconciliation.

Each handler calls what the API's handler for the same thing calls: `trips.list_for_staff`
(GET /trips), `scope.trip_in_scope` (GET /trips/<id>), `trips.update_trip` with the role's field
rights (PATCH /trips/<id>), `manifests.manifests_of` and `manifests.reconciliation` (the scanner
face's manifest and reconciliation, here with the staff member's scope).
"""
from datetime import datetime

from flask import request
from marshmallow import ValidationError

from app.errors import DomainError, flatten_fields
from app.extensions import db
from app.services.platform import field_rights, scope
from app.services.platform.timeutil import LOCAL_ZONE, local_today
from app.services.scanning import manifest_sheets, manifests
from app.services.transport import trips as trip_service
from console import presenters, schemas
from console.downloads import xlsx_download
from console.web import bp
from console.web import trips_views as views
from console.web.layout import flash, go, render_page
from console.web.session import current_staff


def _labels():
    """The status words and colours every trip template shows."""
    return {"trip_status": views.TRIP_STATUS, "seat_status": views.SEAT_STATUS, "health": views.HEALTH}


@bp.get("/trips")
def trips():
    """Trips in the caller's scope, filtered by day and status, a page at a time."""
    staff = current_staff()
    filters, errors = views.list_filters(request.args)
    found = trip_service.list_for_staff(staff, filters.get("date"), filters.get("status"))
    shown, page, pages = views.page_of(found, request.args)
    print_args = {name: str(value) for name, value in filters.items()}
    return render_page("console/trips/list.html", rows=views.list_rows(shown), filters=filters, errors=errors,
                       page=page, pages=pages, total=len(found), print_args=print_args, **_labels())


@bp.route("/trips/<int(max=2147483647):trip_id>", methods=["GET", "POST"])
def trips_detail(trip_id):
    """One trip's plan with its passengers; the form writes the fields the role may write (PATCH's rules)."""
    staff = current_staff()
    if request.method == "GET":
        return _trip_page(staff, scope.trip_in_scope(staff, trip_id))
    try:
        body = schemas.TripPatchIn().load(views.form_body(request.form))
        trip_service.update_trip(staff, trip_id, body)
    except ValidationError as error:
        return _trip_page(staff, scope.trip_in_scope(staff, trip_id), 422, error="填写有误，请检查标出的字段",
                          errors=flatten_fields(error.messages), submitted=request.form)
    except DomainError as error:
        if error.status not in (409, 422):
            raise
        db.session.rollback()
        return _trip_page(staff, scope.trip_in_scope(staff, trip_id), error.status, error=error.message,
                          errors=error.fields or {}, submitted=request.form)
    flash("车次信息已保存")
    return go("console_web.trips_detail", trip_id=trip_id)


def _trip_page(staff, trip, status=200, errors=None, error=None, submitted=None):
    view = presenters.trips_view([trip])[0]
    crew = views.workers_by_id([trip.captain_worker_id, trip.vice_captain_worker_id])
    return render_page("console/trips/detail.html", status=status, trip=trip, view=view,
                       captain=views.crew_contact(crew.get(trip.captain_worker_id)),
                       vice=views.crew_contact(crew.get(trip.vice_captain_worker_id)),
                       checkpoint=views.checkpoint_name(trip.arrival_checkpoint_id),
                       fields=views.FORM_FIELDS, writable=field_rights.writable(staff, "trip"),
                       editable=trip.status in trip_service.EDITABLE, values=views.form_values(trip, submitted),
                       errors=errors or {}, error=error, **_labels())


@bp.get("/trips/<int(max=2147483647):trip_id>/manifest")
def trips_manifest(trip_id):
    """The printable manifest of one vehicle, or (?convoy=1) of every vehicle of its convoy, one per page."""
    staff = current_staff()
    if request.args.get("convoy"):
        found, title = trip_service.convoy_trips_for_staff(staff, trip_id), "班组乘车名单"
    else:
        found, title = [scope.trip_in_scope(staff, trip_id)], "乘车名单"
    return render_page("console/trips/manifest.html", sheets=views.sheets(found), title=title,
                       back=("console_web.trips_detail", {"trip_id": trip_id}),
                       export=("console_web.trips_manifest_xlsx", {**request.args.to_dict(), "trip_id": trip_id}),
                       **_labels())


@bp.get("/trips/manifests")
def trips_day_manifests():
    """The printable manifests of the list's selection (a day, today by default), one vehicle per page."""
    filters, _ = views.list_filters(request.args)
    day = filters.get("date") or local_today()
    found = trip_service.list_for_staff(current_staff(), day, filters.get("status"))
    selection = {**request.args.to_dict(), "date": day.isoformat()}
    return render_page("console/trips/manifest.html", sheets=views.sheets(found), title=f"{day:%Y-%m-%d} 乘车名单",
                       back=("console_web.trips", selection),
                       export=("console_web.trips_day_manifests_xlsx", selection),
                       **_labels())


@bp.get("/trips/<int(max=2147483647):trip_id>/manifest.xlsx")
def trips_manifest_xlsx(trip_id):
    """The manifest of one vehicle, or (?convoy=1) of its convoy, as .xlsx: what GET /trips/<id>/manifest.xlsx sends."""
    convoy = bool(request.args.get("convoy"))
    data = manifest_sheets.trip_workbook(current_staff(), trip_id, convoy)
    kind, name = ("convoy", "班组乘车名单") if convoy else ("trip", "乘车名单")
    return xlsx_download(data, f"{name}-车次{trip_id}.xlsx", f"manifest-{kind}-{trip_id}.xlsx")


@bp.get("/trips/manifests.xlsx")
def trips_day_manifests_xlsx():
    """The manifests of the list's selection (a day, today by default) as .xlsx, one sheet per vehicle."""
    filters, _ = views.list_filters(request.args)
    day = filters.get("date") or local_today()
    data = manifest_sheets.day_workbook(current_staff(), day, filters.get("status"))
    return xlsx_download(data, f"乘车名单-{day.isoformat()}.xlsx", f"manifests-{day.isoformat()}.xlsx")


@bp.get("/trips/<int(max=2147483647):trip_id>/reconciliation")
def trips_reconciliation(trip_id):
    """Boarded / arrived / missing / isolated for the trip and its convoy; htmx refreshes the fragment."""
    trip = scope.trip_in_scope(current_staff(), trip_id)
    tally = manifests.reconciliation(trip)
    template = "console/trips/_reconciliation.html" if request.headers.get("HX-Request") else \
        "console/trips/reconciliation.html"
    return render_page(template, trip=trip, tally=tally, manifest=manifests.manifest(trip),
                       updated_at=datetime.now(LOCAL_ZONE).strftime("%H:%M:%S"), **_labels())
