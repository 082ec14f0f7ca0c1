"""The audit log's query (审计日志): filters, Beijing days, actors in words, the admin only, and a word for every action."""
import ast
import pathlib
from datetime import date, datetime

import pytest

from app.errors import Forbidden, Invalid
from app.extensions import db
from app.models import AuditLog, Worker
from app.services.accounts import staff
from app.services.office import audit_log
from tests.builders import STAFF_PASSWORD, make_worker

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _entry(actor_kind, actor_id, action, object_type="application", object_id=1, at=None, **details):
    row = AuditLog(actor_kind=actor_kind, actor_id=actor_id, action=action, object_type=object_type,
                   object_id=object_id, details=details or None, at=at or datetime(2020, 2, 25, 2, 0))
    db.session.add(row)
    db.session.commit()
    return row.id


@pytest.fixture
def office(app):
    admin = staff.create_staff("office", STAFF_PASSWORD, "admin", "协调办张", by=staff.CLI)
    clerk = staff.create_staff("yongning", STAFF_PASSWORD, "county_operator", "王明", county_code="640121", by=staff.CLI)
    db.session.query(AuditLog).delete()  # the two creations from the command line's side
    db.session.commit()
    return admin, clerk


def _actions(entries):
    return [entry["action"] for entry in entries]


def test_newest_first_with_paging_and_total(office):
    admin, clerk = office
    ids = [_entry("staff", clerk.id, "application.approve", object_id=n) for n in range(5)]
    entries, total = audit_log.list_entries(admin, page=1, per_page=2)
    assert total == 5 and [e["id"] for e in entries] == ids[::-1][:2]
    entries, _ = audit_log.list_entries(admin, page=3, per_page=2)
    assert [e["id"] for e in entries] == [ids[0]]


def test_filters_by_user_actor_action_group_and_object(office, client):
    admin, clerk = office
    _entry("staff", clerk.id, "application.approve", object_id=7)
    _entry("staff", admin.id, "export.liaison_units", "liaison_unit", None, rows=3)
    _entry("worker", 42, "read.full_phone", "worker", 43)
    _entry("staff", admin.id, "staff.create", "staff_user", clerk.id)
    assert _actions(audit_log.list_entries(admin, user="王明")[0]) == ["application.approve"]
    assert _actions(audit_log.list_entries(admin, user="office")[0]) == ["staff.create", "export.liaison_units"]
    assert _actions(audit_log.list_entries(admin, user="nobody")[0]) == []
    assert _actions(audit_log.list_entries(admin, actor="worker:42")[0]) == ["read.full_phone"]
    assert _actions(audit_log.list_entries(admin, action="staff.create")[0]) == ["staff.create"]
    # Every export and every full phone/ID read, whoever did it: one group.
    assert _actions(audit_log.list_entries(admin, group="personal_data")[0]) == ["read.full_phone", "export.liaison_units"]
    assert _actions(audit_log.list_entries(admin, object_type="staff_user", object_id=clerk.id)[0]) == ["staff.create"]
    with pytest.raises(Invalid):
        audit_log.list_entries(admin, group="everything")
    with pytest.raises(Invalid):
        audit_log.list_entries(admin, actor="staff:abc")


def test_day_range_is_in_beijing_days(office):
    admin, clerk = office
    # 2020-02-24 16:30 UTC is 2020-02-25 00:30 in Beijing; 15:30 UTC is still the 24th there.
    late = _entry("staff", clerk.id, "application.approve", at=datetime(2020, 2, 24, 16, 30))
    early = _entry("staff", clerk.id, "application.reject", at=datetime(2020, 2, 24, 15, 30))
    on_25 = audit_log.list_entries(admin, day_from=date(2020, 2, 25), day_to=date(2020, 2, 25))[0]
    assert [e["id"] for e in on_25] == [late]
    on_24 = audit_log.list_entries(admin, day_to=date(2020, 2, 24))[0]
    assert [e["id"] for e in on_24] == [early]
    with pytest.raises(Invalid) as refused:
        audit_log.list_entries(admin, day_from=date(2020, 2, 25), day_to=date(2020, 2, 24))
    assert refused.value.fields == {"day_to": "早于开始日期"}


def test_actors_and_actions_in_words(office, client):
    admin, clerk = office
    make_worker(client, name="w1")
    worker = db.session.scalars(db.select(Worker)).first()
    worker.name = "张三丰"
    db.session.commit()
    _entry("worker", worker.id, "read.full_phone", "worker", 9)
    _entry("staff", clerk.id, "application.approve")
    _entry("system", None, "staff.create", "staff_user", 3, via="cli")
    _entry("staff", clerk.id, "something.new_tomorrow")
    entries = {e["action"]: e for e in audit_log.list_entries(admin)[0]}
    assert entries["read.full_phone"]["actor"] == f"务工人员 张*丰（#{worker.id}）"
    assert entries["read.full_phone"]["action_name"] == "查看完整手机号"
    assert entries["application.approve"]["actor"] == "王明（yongning）"
    assert entries["application.approve"]["object_name"] == "报名"
    assert entries["staff.create"]["actor"] == "系统（命令行）"
    assert entries["something.new_tomorrow"]["action_name"] == "something.new_tomorrow"  # unknown: shown raw
    assert "something.new_tomorrow" in audit_log.actions_in_use(admin)


def test_only_the_admin_reads_the_log(office):
    _, clerk = office
    doctor = staff.create_staff("doctor", STAFF_PASSWORD, "health_officer", by=staff.CLI)
    for user in (clerk, doctor):
        with pytest.raises(Forbidden):
            audit_log.list_entries(user)
        with pytest.raises(Forbidden):
            audit_log.actions_in_use(user)


def _written_actions(path):
    """The action strings a module passes to audit.record, directly or through a helper of its own.

    `audit.record(kind, id, "trip.close", …)` gives "trip.close"; `audit.record(…, action, …)` inside
    `def _audit(staff, action, …)` gives the constants the module's calls of `_audit` pass there;
    `f"application.{decision}"` gives "application.*".
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    found, relayed = set(), {}
    for function in functions.values():
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "audit.record" and len(node.args) >= 3:
                action = node.args[2]
                if isinstance(action, ast.Constant):
                    found.add(action.value)
                elif isinstance(action, ast.JoinedStr):
                    found.add("".join(v.value for v in action.values if isinstance(v, ast.Constant)) + "*")
                elif isinstance(action, ast.Name):
                    relayed[function.name] = [a.arg for a in function.args.args].index(action.id)
                else:
                    found.add(f"<unreadable {ast.unparse(action)}>")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in relayed:
            action = node.args[relayed[node.func.id]]
            found.add(action.value if isinstance(action, ast.Constant) else f"<unreadable {ast.unparse(action)}>")
    return found


def test_every_action_the_code_writes_has_its_words():
    written = set()
    for path in sorted(ROOT.glob("*/**/*.py")):
        if path.parts[len(ROOT.parts)] in ("app", "console", "checkin", "miniprogram_api") and \
                "audit.record(" in path.read_text(encoding="utf-8"):
            written |= _written_actions(path)
    assert {"trip.close", "export.roster", "liaison.create", "application.*"} <= written  # the reader works
    missing = sorted(a for a in written if not a.endswith("*") and a not in audit_log.ACTION_NAMES)
    assert missing == []
    # f"application.{decision}": each decision has its words.
    assert {"application.approve", "application.reject"} <= set(audit_log.ACTION_NAMES)
    # Every group gathers known actions, and every known action sits in a group.
    for key, (_, prefixes) in audit_log.ACTION_GROUPS.items():
        assert any(a.startswith(prefixes) for a in audit_log.ACTION_NAMES), key
    grouped = {a for a in audit_log.ACTION_NAMES for _, p in audit_log.ACTION_GROUPS.values() if a.startswith(p)}
    assert grouped == set(audit_log.ACTION_NAMES)


@pytest.mark.parametrize("actor", ["staff:²", "worker:¹²", "staff:99999999999999999999999", "staff:2147483648x",
                                   "staff:-1", "staff:", "system:1"])
def test_an_actor_that_is_no_row_id_is_refused_in_words(office, actor):
    with pytest.raises(Invalid) as refused:
        audit_log.list_entries(office[0], actor=actor)
    assert refused.value.fields == {"actor": "格式不对"}


def test_days_stay_within_the_stats_range_and_max_days(office):
    admin = office[0]
    _entry("staff", admin.id, "export.roster")
    for bad, field in (({"day_from": date(1, 1, 1)}, "day_from"), ({"day_to": date(9999, 12, 31)}, "day_to"),
                       ({"day_from": date(1999, 12, 31)}, "day_from"),
                       ({"day_from": date(2020, 1, 1), "day_to": date(2021, 1, 1)}, "day_to")):
        with pytest.raises(Invalid) as refused:
            audit_log.list_entries(admin, **bad)
        assert list(refused.value.fields) == [field], bad
    # 366 days, both ends included, is the longest range: 2020 is a leap year.
    assert audit_log.list_entries(admin, day_from=date(2020, 1, 1), day_to=date(2020, 12, 31))[1] == 1
    assert audit_log.list_entries(admin, day_from=date(2000, 1, 1))[1] == 1
