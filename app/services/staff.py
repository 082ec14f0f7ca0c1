"""Staff accounts: creation, password login with lockout, and argon2 password hashes."""
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select

from app.errors import Conflict, DomainError, Invalid, Unauthorized
from app.extensions import db
from app.models import Checkpoint, County, Enterprise, Park, StaffUser
from app.models.base import utcnow
from app.models.staff import ROLE_SCOPE, ROLES
from app.services import tokens

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


def login(username, password):
    """Check a password and issue a staff token; returns (user, token, expires_in).

    After STAFF_MAX_FAILED_LOGINS failures the account is locked for STAFF_LOCK_MINUTES.
    Raises Unauthorized (same answer for unknown user and wrong password) or a 429 when locked.
    """
    config = current_app.config
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == username).with_for_update())
    now = utcnow()
    if user is not None and user.locked_until and user.locked_until > now:
        raise DomainError("account_locked", f"密码错误次数过多，账号已锁定{config['STAFF_LOCK_MINUTES']}分钟",
                          status=429)
    if user is None:
        _spend_verification_time(password)
        raise Unauthorized("invalid_credentials", "用户名或密码错误")
    if not user.active or not _password_matches(user, password):
        user.failed_logins += 1
        if user.failed_logins >= config["STAFF_MAX_FAILED_LOGINS"]:
            user.locked_until = now + timedelta(minutes=config["STAFF_LOCK_MINUTES"])
            user.failed_logins = 0
        db.session.commit()
        raise Unauthorized("invalid_credentials", "用户名或密码错误")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    token, _ = tokens.issue_token("staff", user.id, ttl=config["STAFF_TOKEN_TTL_SECONDS"])
    db.session.commit()
    return user, token, config["STAFF_TOKEN_TTL_SECONDS"]


def _password_matches(user, password):
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _spend_verification_time(password):
    # Unknown usernames answer as slowly as known ones, so timing does not reveal accounts.
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except VerificationError:
        pass
