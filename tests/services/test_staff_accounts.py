"""Staff account rules (账号): scope per role, usernames, the password rule, self-lockout, and the audit entry of each change."""
import pytest
from sqlalchemy import func, select

from app.errors import Conflict, Forbidden, Invalid
from app.extensions import db
from app.models import AuditLog, Checkpoint, Enterprise, Park, StaffUser
from app.services.accounts import staff
from app.services.platform import tokens
from tests.builders import STAFF_PASSWORD


@pytest.fixture
def admin(app):
    return staff.create_staff("office", STAFF_PASSWORD, "admin", "协调办张", by=staff.CLI)


def _entries(action):
    return db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()


def _first(model):
    return db.session.scalar(select(model.id).limit(1))


def test_each_role_takes_its_own_scope(admin):
    takes = {"county_operator": {"county_code": "640121"}, "transport_operator": {"county_code": "640121"},
             "park_operator": {"park_id": _first(Park)}, "enterprise_hr": {"enterprise_id": _first(Enterprise)},
             "checkpoint_staff": {"checkpoint_id": _first(Checkpoint)}, "health_officer": {}, "admin": {}}
    for n, (role, scope) in enumerate(takes.items()):
        user = staff.create_staff(f"u{n}", STAFF_PASSWORD, role, by=admin, **scope)
        assert {c: getattr(user, c) for c in staff.SCOPE_COLUMNS if getattr(user, c) is not None} == scope
    # A health officer may be limited to one county; the office's admin takes none.
    assert staff.create_staff("wj-yn", STAFF_PASSWORD, "health_officer", by=admin, county_code="640121").county_code == "640121"
    with pytest.raises(Invalid) as refused:
        staff.create_staff("x1", STAFF_PASSWORD, "admin", by=admin, county_code="640121")
    assert refused.value.fields == {"county_code": "该角色不需要"}
    with pytest.raises(Invalid) as refused:
        staff.create_staff("x2", STAFF_PASSWORD, "enterprise_hr", by=admin, county_code="640121",
                           enterprise_id=_first(Enterprise))
    assert refused.value.fields == {"county_code": "该角色不需要"}
    for role, scope, field in (("park_operator", {}, "park_id"), ("enterprise_hr", {"enterprise_id": 999999}, "enterprise_id"),
                               ("checkpoint_staff", {"checkpoint_id": "abc"}, "checkpoint_id")):
        with pytest.raises(Invalid) as refused:
            staff.create_staff("x3", STAFF_PASSWORD, role, by=admin, **scope)
        assert field in refused.value.fields
    assert db.session.scalar(select(StaffUser.id).where(StaffUser.username.like("x%"))) is None


def test_usernames_are_unique_and_well_formed(admin):
    staff.create_staff("xixia", STAFF_PASSWORD, "county_operator", by=admin, county_code="640105")
    with pytest.raises(Conflict) as taken:
        staff.create_staff("xixia", STAFF_PASSWORD, "county_operator", by=admin, county_code="640105")
    assert taken.value.code == "username_taken"
    for bad in ("", " ", "西夏区", "has space", "-dash-first", "x" * 65):
        with pytest.raises(Invalid):
            staff.create_staff(bad, STAFF_PASSWORD, "admin", by=admin)
    assert staff.create_staff("  padded  ", STAFF_PASSWORD, "admin", by=admin).username == "padded"


def test_the_password_rule_holds_everywhere(admin):
    with pytest.raises(Invalid) as short:
        staff.create_staff("xixia", "123456789", "county_operator", by=admin, county_code="640105")
    assert short.value.message == "密码至少10位"
    user = staff.create_staff("xixia", "1234567890", "county_operator", by=admin, county_code="640105")
    with pytest.raises(Invalid):
        staff.reset_password(user, "short", by=admin)
    generated = staff.generate_password()
    assert len(generated) >= staff.MIN_PASSWORD_LENGTH and generated != staff.generate_password()
    staff.reset_password(user, generated, by=admin)
    assert not any(generated in str(entry.details) or "1234567890" in str(entry.details)
                   for entry in db.session.scalars(select(AuditLog)))


def test_each_change_writes_its_audit_entry_by_the_admin(admin):
    user = staff.create_staff("xixia", STAFF_PASSWORD, "county_operator", "赵", by=admin, county_code="640105")
    staff.update_staff(user, "transport_operator", by=admin, county_code="640121")
    staff.update_staff(user, "transport_operator", by=admin, county_code="640121")  # no change: no entry
    staff.reset_password(user, "another-password-1", by=admin)
    staff.deactivate(user, by=admin)
    staff.deactivate(user, by=admin)  # already: no second entry
    staff.activate(user, by=admin)
    actions = [e.action for e in db.session.scalars(select(AuditLog).where(AuditLog.actor_kind == "staff")
                                                    .order_by(AuditLog.id))]
    assert actions == ["staff.create", "staff.update", "staff.reset_password", "staff.deactivate", "staff.activate"]
    assert {e.actor_id for e in db.session.scalars(select(AuditLog).where(AuditLog.actor_kind == "staff"))} == {admin.id}
    update = _entries("staff.update")[0]
    assert update.object_id == user.id
    assert update.details["before"] == {"role": "county_operator", "county_code": "640105"}
    assert update.details["after"] == {"role": "transport_operator", "county_code": "640121"}


def test_the_entry_is_in_the_same_transaction_as_the_change(admin):
    user = staff.create_staff("xixia", STAFF_PASSWORD, "county_operator", by=admin, county_code="640105")
    with pytest.raises(Invalid):
        staff.update_staff(user, "park_operator", by=admin)  # refused: neither the change nor an entry
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(StaffUser, user.id).role == "county_operator" and _entries("staff.update") == []


def test_the_command_line_is_the_system_in_the_log(app):
    user = staff.create_staff("xixia", STAFF_PASSWORD, "county_operator", county_code="640105", by=staff.CLI)
    staff.deactivate("xixia", by=staff.CLI)
    for entry in _entries("staff.create") + _entries("staff.deactivate"):
        assert (entry.actor_kind, entry.actor_id, entry.details["via"], entry.object_id) == ("system", None, "cli", user.id)


def test_deactivating_ends_sessions_at_once(admin):
    user = staff.create_staff("xixia", STAFF_PASSWORD, "county_operator", by=admin, county_code="640105")
    token, _ = tokens.issue_token("staff", user.id)
    db.session.commit()
    staff.deactivate(user, by=admin)
    assert tokens.resolve_token(token, "staff") is None


def test_an_admin_cannot_lock_themself_or_the_city_out(admin):
    with pytest.raises(Invalid) as refused:
        staff.deactivate(admin, by=admin)
    assert refused.value.code == "self_lockout"
    with pytest.raises(Invalid) as refused:
        staff.update_staff(admin, "county_operator", by=admin, county_code="640121")
    assert refused.value.code == "self_lockout"
    # From the command line too, the last active admin stays.
    with pytest.raises(Invalid) as refused:
        staff.deactivate("office", by=staff.CLI)
    assert refused.value.code == "last_admin"
    second = staff.create_staff("office2", STAFF_PASSWORD, "admin", by=admin)
    third = staff.create_staff("office3", STAFF_PASSWORD, "admin", by=admin)
    staff.update_staff(third, "health_officer", by=admin)  # another admin may be demoted while one is left
    staff.deactivate("office", by=staff.CLI)  # … and with two, the command line may take one away
    with pytest.raises(Invalid) as refused:
        staff.deactivate("office2", by=staff.CLI)
    assert refused.value.code == "last_admin"
    db.session.expire_all()
    assert not db.session.get(StaffUser, admin.id).active and db.session.get(StaffUser, second.id).active
    assert db.session.get(StaffUser, third.id).role == "health_officer"


def test_only_an_admin_manages_accounts(admin):
    clerk = staff.create_staff("xixia", STAFF_PASSWORD, "county_operator", by=admin, county_code="640105")
    for call in (lambda: staff.create_staff("x9", STAFF_PASSWORD, "admin", by=clerk),
                 lambda: staff.update_staff(admin, "health_officer", by=clerk),
                 lambda: staff.reset_password(admin, "another-password-1", by=clerk),
                 lambda: staff.deactivate(admin, by=clerk), lambda: staff.list_staff(clerk),
                 lambda: staff.get_staff(clerk, admin.id), lambda: staff.scope_choices(clerk)):
        with pytest.raises(Forbidden):
            call()
    with pytest.raises(Forbidden):
        staff.list_staff(None)  # the console always names who asks
    with pytest.raises(Forbidden):
        staff.list_staff(staff.CLI)  # … and reading accounts is the console's, not the command line's


def test_nobody_is_not_the_command_line(admin):
    """`by=None` (a caller that forgot who acts) is refused; only the explicit CLI marker is the trusted command line."""
    clerk = staff.create_staff("xixia", STAFF_PASSWORD, "county_operator", by=admin, county_code="640105")
    for call in (lambda: staff.create_staff("x9", STAFF_PASSWORD, "admin"),
                 lambda: staff.create_staff("x9", STAFF_PASSWORD, "admin", by=None),
                 lambda: staff.update_staff(clerk, "admin", by=None), lambda: staff.reset_password(clerk, "p" * 12),
                 lambda: staff.deactivate("xixia"), lambda: staff.activate("xixia"), lambda: staff.update_staff(clerk, "admin")):
        with pytest.raises(Forbidden):
            call()
    db.session.rollback()
    assert staff.get_staff(admin, clerk.id).role == "county_operator" and _account_names() == ["office", "xixia"]
    assert staff.create_staff("x9", STAFF_PASSWORD, "admin", by=staff.CLI).role == "admin"


def _account_names():
    db.session.expire_all()
    return sorted(db.session.scalars(select(StaffUser.username)))
    assert db.session.scalar(select(StaffUser.role).where(StaffUser.id == admin.id)) == "admin"


def test_list_filters(admin):
    staff.create_staff("xixia", STAFF_PASSWORD, "county_operator", "赵西夏", by=admin, county_code="640105")
    staff.create_staff("yn_1", STAFF_PASSWORD, "transport_operator", "运输", by=admin, county_code="640121")
    names = lambda rows: [u.username for u in rows[0]]  # noqa: E731
    assert names(staff.list_staff(admin)) == ["yn_1", "xixia", "office"]
    assert names(staff.list_staff(admin, role="admin")) == ["office"]
    assert names(staff.list_staff(admin, scope="county:640121")) == ["yn_1"]
    assert names(staff.list_staff(admin, q="西夏")) == ["xixia"]
    assert names(staff.list_staff(admin, q="_")) == ["yn_1"]  # a LIKE wildcard is a plain character here
    assert staff.list_staff(admin, per_page=1, page=2) == ([staff.get_staff(admin, db.session.scalar(
        select(StaffUser.id).where(StaffUser.username == "xixia")))], 3)
    for bad in ({"role": "emperor"}, {"scope": "planet:1"}, {"scope": "park:x"}, {"scope": "park:²"},
                {"scope": "park:-1"}, {"scope": "park:99999999999999999999999"}, {"scope": "enterprise:2147483648"}):
        with pytest.raises(Invalid) as refused:
            staff.list_staff(admin, **bad)
        assert refused.value.message in ("未知角色", "管辖范围筛选有误"), bad


def test_a_scope_id_that_is_no_row_id_is_refused_in_words(admin):
    """`²` passes str.isdigit() and a huge number overflows the INT column: both are 管辖范围不存在, never a crash."""
    for value in ("²", "99999999999999999999999", 2**31, -1, "1.5", " 1"):
        with pytest.raises(Invalid) as refused:
            staff.create_staff("x4", STAFF_PASSWORD, "park_operator", by=admin, park_id=value)
        assert refused.value.fields == {"park_id": "不存在"}, value
    assert db.session.scalar(select(StaffUser.id).where(StaffUser.username == "x4")) is None


def test_the_command_line_keeps_working_on_the_same_functions(app):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["staff", "create", "boss", "--role", "admin", "--password-env", "PW"],
                            env={"PW": STAFF_PASSWORD})
    assert created.exit_code == 0, created.output
    refused = runner.invoke(args=["staff", "deactivate", "boss"])
    assert refused.exit_code != 0 and "最后一个可用的管理员账号" in refused.output
    foreign = runner.invoke(args=["staff", "create", "boss2", "--role", "admin", "--county", "640121", "--password-env", "PW"],
                            env={"PW": STAFF_PASSWORD})
    assert foreign.exit_code != 0 and "--county: 该角色不需要" in foreign.output
    staff.create_staff("xixia", STAFF_PASSWORD, "county_operator", county_code="640105", by=staff.CLI)
    assert runner.invoke(args=["staff", "deactivate", "xixia"]).exit_code == 0
    activated = runner.invoke(args=["staff", "activate", "xixia"])
    assert activated.exit_code == 0 and "activated" in activated.output
    db.session.expire_all()
    assert db.session.scalar(select(StaffUser.active).where(StaffUser.username == "xixia")) is True
    assert [e.action for e in db.session.scalars(select(AuditLog).where(AuditLog.object_type == "staff_user")
                                                 .order_by(AuditLog.id))][-3:] == \
        ["staff.create", "staff.deactivate", "staff.activate"]


def test_two_admins_removing_each_other_at_once_leave_one(mariadb_app):
    import threading

    with mariadb_app.app_context():
        first = staff.create_staff("office-a", STAFF_PASSWORD, "admin", by=staff.CLI).id
        second = staff.create_staff("office-b", STAFF_PASSWORD, "admin", by=staff.CLI).id
    outcomes, barrier = [], threading.Barrier(2)

    def remove(actor_id, target_id):
        with mariadb_app.app_context():
            actor, target = db.session.get(StaffUser, actor_id), db.session.get(StaffUser, target_id)
            barrier.wait()
            try:
                staff.deactivate(target, by=actor)
                outcomes.append("deactivated")
            except Invalid as refused:
                db.session.rollback()
                outcomes.append(refused.code)

    threads = [threading.Thread(target=remove, args=pair) for pair in ((first, second), (second, first))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["deactivated", "last_admin"]
    with mariadb_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StaffUser).where(StaffUser.active.is_(True))) == 1
