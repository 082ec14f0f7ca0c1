"""Staff accounts (工作人员账号): creation and changes by the admin, password login slowed per (username, IP), argon2 hashes.

Every change of an account (create, role and scope, password reset, deactivate, activate) takes the
acting admin (`by`; `CLI` for the command line, `flask staff ...`; None is refused) and writes its audit entry in the
same transaction. Passwords never reach the audit log.
"""
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from app.extensions import db
from app.models import Checkpoint, County, Enterprise, Park, StaffUser
from app.models.base import utcnow
from app.models.staff import ROLE_SCOPE, ROLES
from app.services.accounts import login_throttle
from app.services.platform import audit, tokens
from app.services.platform.ids import parse_id

_hasher = PasswordHasher()
# Verifying against this when the username is unknown keeps the timing the same.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
_SCOPE_MODELS = {"county_code": County, "park_id": Park, "enterprise_id": Enterprise, "checkpoint_id": Checkpoint}
SCOPE_COLUMNS = tuple(_SCOPE_MODELS)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
# The scope columns each role may take: its required one (ROLE_SCOPE), and a health officer's optional county.
ROLE_SCOPES = {role: (needed,) if needed else () for role, needed in ROLE_SCOPE.items()} | {"health_officer": ("county_code",)}
_SCOPE_KINDS = {"county": "county_code", "park": "park_id", "enterprise": "enterprise_id", "checkpoint": "checkpoint_id"}
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class _CommandLine:
    """The trusted command line (`flask staff ...`) as the actor of an account change: only app/cli.py passes it."""

    def __repr__(self):
        return "staff.CLI"


CLI = _CommandLine()


def create_staff(username, password, role, display_name=None, by=None, **scope):
    """Create a staff account (新建账号), with its audit entry, and commit.

    Args:
        password: at least MIN_PASSWORD_LENGTH characters (`generate_password()` makes one to show once).
        by: the acting admin (the console), or CLI for the command line (`flask staff create`); None is refused.
        scope: county_code / park_id / enterprise_id / checkpoint_id; the role says which (`ROLE_SCOPES`).
    Raises Forbidden when `by` is no admin; Invalid for a bad username, an unknown role, a missing,
    unknown or foreign scope or a short password; Conflict when the username exists.
    """
    _require_admin(by)
    username = _check_username(username)
    role, scope = _check_role_and_scope(role, scope)
    _check_password(password)
    display_name = _check_display_name(display_name) or username
    if db.session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise Conflict("username_taken", "用户名已存在", fields={"username": "已被使用"})
    user = StaffUser(username=username, password_hash=_hasher.hash(password), role=role,
                     display_name=display_name, **scope)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # the same name created at the same moment by someone else
        db.session.rollback()
        raise Conflict("username_taken", "用户名已存在", fields={"username": "已被使用"}) from None
    _audit(by, "staff.create", user, username=username, role=role, **scope)
    db.session.commit()
    return user


def login(username, password, client_ip):
    """Check a password and issue a staff token; returns (user, token, expires_in).

    Unknown username, inactive account and wrong password answer alike (401 invalid_credentials,
    after one argon2 verification each). Failures slow the (username, client IP) pair down
    (`login_throttle`): while it must wait, 429 login_throttled, whether or not the account exists.
    """
    config = current_app.config
    pair = login_throttle.pair_key(username, client_ip)
    login_throttle.refuse_while_waiting(pair)
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    # One verification whatever the account: an unknown or inactive name costs what a wrong password costs.
    matches = _password_matches(user.password_hash if user is not None else _DUMMY_HASH, password)
    if user is None or not user.active or not matches:
        db.session.rollback()
        login_throttle.record_failure(pair)
        raise Unauthorized("invalid_credentials", "用户名或密码错误")
    login_throttle.record_success(pair)
    user.last_login_at = utcnow()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    token, _ = tokens.issue_token("staff", user.id, ttl=config["STAFF_TOKEN_TTL_SECONDS"])
    db.session.commit()
    return user, token, config["STAFF_TOKEN_TTL_SECONDS"]


def _password_matches(password_hash, password):
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_new_password(password):
    _check_password(password, "new_password", "新密码")


def change_password(user, current_password, new_password, client_ip, keep_token=None):
    """A staff member changes their own password; every other session of theirs ends. Commits.

    A wrong current password counts as a failed login of that (username, client IP) pair, so a
    console left open cannot be used to guess it (429 login_throttled while it must wait).
    Raises Invalid (422) when the current password is wrong or the new one too short or unchanged.
    """
    pair = login_throttle.pair_key(user.username, client_ip)
    login_throttle.refuse_while_waiting(pair)
    if not _password_matches(user.password_hash, current_password):
        db.session.rollback()
        login_throttle.record_failure(pair)
        raise Invalid("wrong_password", "当前密码不正确", fields={"current_password": "不正确"})
    _check_new_password(new_password)
    if new_password == current_password:
        raise Invalid("validation_error", "新密码不能与当前密码相同", fields={"new_password": "与当前密码相同"})
    user.password_hash = _hasher.hash(new_password)
    db.session.commit()
    tokens.revoke_all("staff", user.id, keep=keep_token)


def reset_password(target, new_password, by=None):
    """Set a staff member's password (重置密码, an administrator's reset) and end all their sessions. Commits.

    `target` is the account or its username; `by` the acting admin or CLI (the command line).
    The audit entry says that the password was reset, never the password.
    """
    _require_admin(by)
    user = _target(target)
    _check_new_password(new_password)
    user.password_hash = _hasher.hash(new_password)
    _audit(by, "staff.reset_password", user, username=user.username)
    db.session.commit()
    tokens.revoke_all("staff", user.id)
    return user


def deactivate(target, by=None):
    """Deactivate a staff account (停用): it can no longer log in, and its sessions end at once. Commits.

    Raises Invalid (self_lockout) when an admin would deactivate themself, or when the city would be
    left without an active admin (last_admin).
    """
    _require_admin(by)
    user = _target(target)
    if by is not CLI and by.id == user.id:
        raise Invalid("self_lockout", "不能停用自己的账号，请由另一位管理员操作")
    if user.active:
        if user.role == "admin":
            _keep_an_admin(user)
        user.active = False
        _audit(by, "staff.deactivate", user, username=user.username)
        db.session.commit()
    tokens.revoke_all("staff", user.id)
    return user


def activate(target, by=None):
    """Let a deactivated staff account sign in again (启用); its password is unchanged. Commits."""
    _require_admin(by)
    user = _target(target)
    if not user.active:
        user.active = True
        _audit(by, "staff.activate", user, username=user.username)
        db.session.commit()
    return user


def update_staff(target, role, by=None, display_name=None, **scope):
    """Change a staff member's role and scope (and display name when given) (修改角色与范围). Commits.

    The scope columns the new role does not take are cleared. Raises Invalid as `create_staff` does,
    and self_lockout / last_admin when an admin would demote themself or the last active admin.
    Sessions stay: every request reads the role and scope afresh, so the change applies at once.
    """
    _require_admin(by)
    user = _target(target)
    role, scope = _check_role_and_scope(role, scope)
    display_name = _check_display_name(display_name)
    if user.role == "admin" and role != "admin":
        if by is not CLI and by.id == user.id:
            raise Invalid("self_lockout", "不能取消自己的管理员角色，请由另一位管理员操作", fields={"role": "不能降级自己"})
        if user.active:
            _keep_an_admin(user)
    before = {"role": user.role, **_scope_of(user)}
    user.role = role
    for column in SCOPE_COLUMNS:
        setattr(user, column, scope.get(column))
    changes = {}
    if display_name and display_name != user.display_name:
        changes["display_name"] = display_name
        user.display_name = display_name
    after = {"role": role, **scope}
    if before == after and not changes:
        return user
    _audit(by, "staff.update", user, username=user.username, before=before, after=after, **changes)
    db.session.commit()
    return user


def generate_password():
    """A temporary password for an admin to hand over once (12 characters, no look-alike ones such as 0/O, 1/l)."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(12))


def get_staff(by, staff_id):
    """One staff account, for the admin (Forbidden for other roles, NotFound when there is none)."""
    _require_admin(by, console=True)
    user = db.session.get(StaffUser, staff_id)
    if user is None:
        raise NotFound("not_found", "没有该工作人员账号")
    return user


def list_staff(by, role=None, scope=None, active=None, q=None, page=1, per_page=20):
    """Staff accounts for the admin (账号列表), newest first: (accounts, total).

    Args:
        role: one of ROLES; scope: `county:640121`, `park:3`, `enterprise:5`, `checkpoint:2` (an
        account of that county, park…); active: True / False; q: part of the username or display name.
    Raises Forbidden for roles other than admin, Invalid for an unknown role or scope.
    """
    _require_admin(by, console=True)
    query = select(StaffUser)
    if role:
        if role not in ROLES:
            raise Invalid("validation_error", "未知角色", fields={"role": "未知角色"})
        query = query.where(StaffUser.role == role)
    if scope:
        column, value = _parse_scope(scope)
        query = query.where(getattr(StaffUser, column) == value)
    if active is not None:
        query = query.where(StaffUser.active.is_(bool(active)))
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(StaffUser.username.like(pattern, escape="\\"),
                                StaffUser.display_name.like(pattern, escape="\\")))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(StaffUser.id.desc()).limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total


def scope_choices(by):
    """Every scope an account can take, by column: {column: [(value, name)]}, for the admin's forms and filters."""
    _require_admin(by, console=True)
    return {
        "county_code": [tuple(r) for r in db.session.execute(select(County.code, County.name).order_by(County.code))],
        "park_id": [tuple(r) for r in db.session.execute(select(Park.id, Park.name).order_by(Park.id))],
        "enterprise_id": [tuple(r) for r in db.session.execute(select(Enterprise.id, Enterprise.name).order_by(Enterprise.id))],
        "checkpoint_id": [tuple(r) for r in db.session.execute(select(Checkpoint.id, Checkpoint.name).order_by(Checkpoint.id))],
    }


def _require_admin(by, console=False):
    """Only the coordination office's admin manages accounts, or the command line (`CLI`, trusted) unless `console`.

    None is nobody, refused: a caller that forgot to say who acts must not act as the command line.
    """
    if by is CLI and not console:
        return
    if not isinstance(by, StaffUser) or by.role != "admin":
        raise Forbidden("forbidden_role", "只有协调办管理员可以管理账号")


def _target(target):
    return target if isinstance(target, StaffUser) else _by_username(target)


def _check_username(username):
    username = (username or "").strip()
    if not _USERNAME.fullmatch(username):
        raise Invalid("validation_error", "用户名应为1-64位字母、数字或 . _ - @，以字母或数字开头",
                      fields={"username": "格式不对"})
    return username


def _check_display_name(display_name):
    display_name = (display_name or "").strip()
    if len(display_name) > 64:
        raise Invalid("validation_error", "姓名最多64个字", fields={"display_name": "太长"})
    return display_name or None


def _check_password(password, field="password", word="密码"):
    """The password rule, one for every way a password is set: at least MIN_PASSWORD_LENGTH characters."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise Invalid("validation_error", f"{word}至少{MIN_PASSWORD_LENGTH}位", fields={field: "太短"})
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid("validation_error", f"{word}最多{MAX_PASSWORD_LENGTH}位", fields={field: "太长"})


def _check_role_and_scope(role, scope):
    """The role and the scope columns it takes, each scope existing; raises Invalid."""
    if role not in ROLES:
        raise Invalid("validation_error", "未知角色", fields={"role": "可选：" + "、".join(ROLES)})
    scope = {name: value for name, value in scope.items() if value not in (None, "")}
    needed, allowed = ROLE_SCOPE[role], ROLE_SCOPES[role]
    if needed and needed not in scope:
        raise Invalid("validation_error", "该角色需要指定管辖范围", fields={needed: "必填"})
    foreign = sorted(set(scope) - set(allowed))
    if foreign:
        raise Invalid("validation_error", "该角色不带这种管辖范围", fields={name: "该角色不需要" for name in foreign})
    for name, value in scope.items():
        if name != "county_code":
            value = scope[name] = parse_id(value)
            if value is None:
                raise Invalid("validation_error", "管辖范围不存在", fields={name: "不存在"})
        if db.session.get(_SCOPE_MODELS[name], value) is None:
            raise Invalid("validation_error", "管辖范围不存在", fields={name: "不存在"})
    return role, scope


def _parse_scope(value):
    kind, _, key = str(value).partition(":")
    column = _SCOPE_KINDS.get(kind)
    if column is None or not key:
        raise Invalid("validation_error", "管辖范围筛选有误", fields={"scope": "格式不对"})
    if column != "county_code":
        key = parse_id(key)
        if key is None:
            raise Invalid("validation_error", "管辖范围筛选有误", fields={"scope": "格式不对"})
    return column, key


def _scope_of(user):
    return {column: getattr(user, column) for column in SCOPE_COLUMNS if getattr(user, column) is not None}


def _keep_an_admin(user):
    """Refuse to take away the last active admin: the city would be locked out of its console.

    The active admins' rows are locked, so two admins removing each other at once cannot both succeed.
    """
    admins = db.session.scalars(select(StaffUser.id).where(StaffUser.role == "admin", StaffUser.active.is_(True))
                                .with_for_update()).all()
    if not set(admins) - {user.id}:
        raise Invalid("last_admin", "这是最后一个可用的管理员账号，停用或降级后将无人能管理账号；请先新建另一位管理员")


def _audit(by, action, user, **details):
    """The audit entry of an account change: the admin who did it, or the command line ("system")."""
    if by is CLI:
        audit.record("system", None, action, "staff_user", user.id, via="cli", **details)
    else:
        audit.record("staff", by.id, action, "staff_user", user.id, **details)


def _by_username(username):
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise NotFound("not_found", "没有该用户名的工作人员账号")
    return user
