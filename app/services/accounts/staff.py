"""Staff accounts: creation, password login slowed per (username, IP), and argon2 password hashes."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select

from app.errors import Conflict, Invalid, NotFound, Unauthorized
from app.extensions import db
from app.models import Checkpoint, County, Enterprise, Park, StaffUser
from app.models.base import utcnow
from app.models.staff import ROLE_SCOPE, ROLES
from app.services.accounts import login_throttle
from app.services.platform import tokens

_hasher = PasswordHasher()
# Verifying against this when the username is unknown keeps the timing the same.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
_SCOPE_MODELS = {"county_code": County, "park_id": Park, "enterprise_id": Enterprise, "checkpoint_id": Checkpoint}
MIN_PASSWORD_LENGTH = 10


def create_staff(username, password, role, display_name=None, **scope):
    """Create a staff account and commit.

    Args:
        scope: county_code / park_id / enterprise_id / checkpoint_id; the role says which is required.
    Raises Invalid for an unknown role, a missing or unknown scope or a short password;
    Conflict when the username exists.
    """
    if role not in ROLES:
        raise Invalid("validation_error", "未知角色", fields={"role": "可选：" + "、".join(ROLES)})
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid("validation_error", f"密码至少{MIN_PASSWORD_LENGTH}位", fields={"password": "太短"})
    scope = {name: value for name, value in scope.items() if value is not None}
    needed = ROLE_SCOPE[role]
    if needed and needed not in scope:
        raise Invalid("validation_error", f"角色 {role} 需要指定 {needed}", fields={needed: "必填"})
    for name, value in scope.items():
        if db.session.get(_SCOPE_MODELS[name], value) is None:
            raise Invalid("validation_error", "管辖范围不存在", fields={name: "不存在"})
    if db.session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise Conflict("username_taken", "用户名已存在")
    user = StaffUser(username=username, password_hash=_hasher.hash(password), role=role,
                     display_name=display_name or username, **scope)
    db.session.add(user)
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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid("validation_error", f"新密码至少{MIN_PASSWORD_LENGTH}位", fields={"new_password": "太短"})


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


def reset_password(username, new_password):
    """Set a staff member's password (an administrator's reset) and end all their sessions. Commits."""
    user = _by_username(username)
    _check_new_password(new_password)
    user.password_hash = _hasher.hash(new_password)
    db.session.commit()
    tokens.revoke_all("staff", user.id)
    return user


def deactivate(username):
    """Deactivate a staff account: it can no longer log in, and its sessions end at once. Commits."""
    user = _by_username(username)
    user.active = False
    db.session.commit()
    tokens.revoke_all("staff", user.id)
    return user


def _by_username(username):
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise NotFound("not_found", "没有该用户名的工作人员账号")
    return user
