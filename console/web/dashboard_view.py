"""What the 看板 page shows, assembled from `stats.dashboard`: large figures, and charts each with its table.

Every chart is one structure (`categories` × `series`) that the page's script draws with ECharts and
the template prints as a table, so the numbers beside a chart are the chart's own. No figure is
computed here: the view only picks the service's counts and puts Chinese words on them.
"""
from marshmallow import EXCLUDE
from sqlalchemy import select

from app.errors import flatten_fields
from app.extensions import db
from app.models import County, Park
from app.services.employment.roster_exports import ORDER_STATUS_NAMES
from app.services.office.stats import NO_COUNTY, area_for
from console import office_schemas
from console.web import forms
from console.web.words import APPLICATION, DIRECTION, SEAT, TRIP, names

FILTERS = ("date_from", "date_to", "county")
FIELD_LABELS = {"date_from": "开始日期", "date_to": "结束日期", "county": "县区"}
TOP_ENTERPRISES = 20  # the chart names this many enterprises, the most short first; the table says how many more
CHECK_IN_WORDS = {"boarded": "已上车", "arrived": "已到达", "no_show": "未乘车"}
ANOMALY_WORDS = {"scan_isolate": "扫码判定隔离", "follow_up_fever": "随访发热", "follow_up_symptoms": "随访有症状"}
# A series has the colour of its status tag where it has one (words.py), so a colour means the same on every page.
COLOURS = {"outbound": "primary", "inbound": "orange", "boarded": "primary", "arrived": "success", "no_show": "warning",
           "scan_isolate": "danger", "follow_up_fever": "orange", "follow_up_symptoms": "warning", "orders": "primary",
           "filled": "success", "short": "danger"}


def given(args):
    """The filters of the query that are filled in (an empty form field means no filter)."""
    return forms.given(args, FILTERS)


def parse_filters(args):
    """The filters loaded by the API's own StatsIn schema; raises ValidationError."""
    return office_schemas.StatsIn().load(given(args), unknown=EXCLUDE)


def error_text(fields, lead="筛选条件有误"):
    """A schema's or service's field errors as one Chinese sentence."""
    flat = flatten_fields(fields)
    return lead + "：" + "；".join(f"{FIELD_LABELS.get(name, name)} {text}" for name, text in flat.items())


def county_names():
    """{county code: name} of every county, and the word for figures of no county (a park's own trips)."""
    counties = dict(db.session.execute(select(County.code, County.name).order_by(County.code)).all())
    return {**counties, NO_COUNTY: "无县区"}


def filter_bar(staff):
    """The county filter this staff member gets: a choice of counties, or the scope the service fixes
    for them (`area_for` without a filter: their county, or their park), shown and not chosen."""
    counties = county_names()
    own = area_for(staff)
    if own.park is not None:
        park = db.session.get(Park, own.park)
        return {"fixed": park.name if park else "本园区", "choices": []}
    if own.county is not None:
        return {"fixed": counties.get(own.county, own.county), "choices": []}
    return {"fixed": None, "choices": [(code, name) for code, name in counties.items() if code != NO_COUNTY]}


def figures(stats):
    """The large numbers on top, in the order a clerk reads them."""
    health, vacancies = stats["health"], stats["vacancies"]
    return [("applications", "报名", stats["applications"]["total"]),
            ("trips", "车次", stats["trips"]["total"]),
            ("passengers", "乘客", stats["passengers"]["total"]),
            ("boarded", "已上车", stats["check_in"]["boarded"]),
            ("arrived", "已到达", stats["check_in"]["arrived"]),
            ("no_show", "未乘车", stats["check_in"]["no_show"]),
            ("anomalies", "健康异常", health["anomalies"]),
            ("isolations", "隔离", health["isolations"]),
            ("short", "缺工", vacancies["short"])]


def _by_day(block, vocabulary, kind="bar"):
    days, words = block["daily"], names(vocabulary)
    return {"kind": kind, "stack": True, "categories": [entry["day"] for entry in days], "category_label": "日期",
            "series": [{"key": key, "name": words.get(key, key), "colour": vocabulary.get(key, (key, "secondary"))[1],
                        "data": [entry["by_status"][key] for entry in days]} for key in block["by_status"]],
            "totals": [entry["count"] for entry in days]}


def charts(stats):
    """Every chart of the page: id, title, what its figures count, and categories × series."""
    counties = county_names()
    passengers = stats["passengers"]
    check_in_days = passengers["daily"]
    anomalies = stats["health"]["anomalies_by_county"]
    orders = stats["health"]["isolations_by_status"]
    enterprises = stats["vacancies_by_enterprise"]
    shown = enterprises[:TOP_ENTERPRISES]
    blocks = (("applications", "报名"), ("trips", "车次"), ("passengers", "乘客"))
    return [_coloured(chart) for chart in [
        {"id": "applications", "title": "报名（按提交日、状态）", "note": "按提交日（北京时间）",
         **_by_day(stats["applications"], APPLICATION)},
        {"id": "trips", "title": "车次（按发车日、状态）", "note": "按发车日期", **_by_day(stats["trips"], TRIP)},
        {"id": "passengers", "title": "乘客（按发车日、状态）", "note": "按所乘车次的发车日期",
         **_by_day(passengers, SEAT)},
        {"id": "directions", "title": "外出务工与返岗来银", "note": "报名按提交日，车次、乘客按发车日期",
         "kind": "bar", "stack": False, "categories": [word for _, word in blocks], "category_label": "项目",
         "series": [{"key": key, "name": word, "data": [stats[block]["by_direction"].get(key, 0) for block, _ in blocks]}
                    for key, word in DIRECTION.items()], "totals": [stats[block]["total"] for block, _ in blocks]},
        {"id": "check_in", "title": "上车、到达与未乘车（按发车日）", "note": "已上车含已到达和到达时隔离的乘客",
         "kind": "line", "stack": False, "categories": [entry["day"] for entry in check_in_days], "category_label": "日期",
         "series": [{"key": key, "name": word, "data": [entry["check_in"][key] for entry in check_in_days]}
                    for key, word in CHECK_IN_WORDS.items()]},
        {"id": "anomalies", "title": "健康异常（按县区）", "note": "扫码按车次所属县区；随访按人员所属县区，跨县区者各计一次",
         "kind": "bar", "stack": True, "categories": [counties.get(row["county_code"], row["county_code"])
                                                      for row in anomalies], "category_label": "县区",
         "series": [{"key": key, "name": word, "data": [row[key] for row in anomalies]}
                    for key, word in ANOMALY_WORDS.items()], "totals": [row["total"] for row in anomalies]},
        {"id": "isolations", "title": "隔离单（按状态）", "note": "按开单日期", "kind": "bar", "stack": False,
         "categories": list(ORDER_STATUS_NAMES.values()), "category_label": "状态",
         "series": [{"key": "orders", "name": "隔离单", "data": [orders.get(key, 0) for key in ORDER_STATUS_NAMES]}]},
        {"id": "vacancies", "title": "用工：已解决与缺工（按企业）", "kind": "bar", "stack": True, "horizontal": True,
         "note": "当前数字，不受日期筛选影响" + (f"；共 {len(enterprises)} 家企业，显示缺工最多的 {len(shown)} 家"
                                        if len(enterprises) > len(shown) else ""),
         "categories": [row["name"] for row in shown], "category_label": "企业",
         "series": [{"key": "filled", "name": "已解决用工", "data": [row["filled"] for row in shown]},
                    {"key": "short", "name": "缺工", "data": [row["short"] for row in shown]}]},
    ]]


def _coloured(chart):
    for series in chart["series"]:
        series.setdefault("colour", COLOURS.get(series["key"], "secondary"))
    return chart
