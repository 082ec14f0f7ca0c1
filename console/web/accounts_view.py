"""What the 账号 pages show and read: account rows with their scope in words, the forms' fields, paging.

No rule lives here: which scope a role takes, the password and username rules and who may manage
accounts are `staff`'s (`ROLE_SCOPES`, `create_staff`, `update_staff`…); this module only turns
form fields into the service's arguments and the service's answers into words.
"""
import base64
import hashlib
import json
import secrets

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from app.errors import Invalid
from app.models.staff import ROLES
from app.services.accounts import staff
from console.web import forms
from console.web.layout import ROLE_LABELS, scope_label

PER_PAGE_CHOICES = (20, 50, 100)
SCOPE_LABELS = {"county_code": "县区", "park_id": "园区", "enterprise_id": "企业", "checkpoint_id": "卡口"}
SCOPE_KINDS = {"county_code": "county", "park_id": "park", "enterprise_id": "enterprise", "checkpoint_id": "checkpoint"}
FIELD_LABELS = {"username": "用户名", "display_name": "姓名", "role": "角色", "password": "密码",
                "new_password": "新密码", "scope": "管辖范围", "active": "状态", "page": "页码", "per_page": "每页条数",
                **SCOPE_LABELS}
FILTERS = ("role", "scope", "active", "q", "page", "per_page")


def given(args):
    """The list's filter and paging values that are filled in."""
    return forms.given(args, FILTERS)


def parse_filters(args):
    """The list's filters as `staff.list_staff` takes them; raises Invalid for a bad page or state."""
    values = given(args)
    query = {"role": values.get("role"), "scope": values.get("scope"), "q": values.get("q", "")[:64] or None}
    if "active" in values:
        if values["active"] not in ("1", "0"):
            raise Invalid("validation_error", "筛选条件有误", fields={"active": "应为在用或已停用"})
        query["active"] = values["active"] == "1"
    query["page"] = forms.number(values.get("page", "1"), "page", 1, 100000)
    query["per_page"] = forms.number(values.get("per_page", "20"), "per_page", 1, 100)
    if query["per_page"] not in PER_PAGE_CHOICES:
        raise Invalid("validation_error", "筛选条件有误", fields={"per_page": "可选 20、50、100"})
    return query


SHOWN_TTL = 300  # seconds a generated password waits for the one page that shows it
SHOWN_COOKIE = "fg_new_password"


def _sealer():
    """Fernet (AES + HMAC) keyed from SECRET_KEY: the cookie's content is unreadable and unforgeable in the browser."""
    digest = hashlib.sha256(b"console-new-password\0" + current_app.config["SECRET_KEY"].encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def keep_new_password(admin, user, password):
    """Seal a generated password for the one GET after the redirect; returns (one-time key, cookie value).

    The key (random) goes in the redirect's URL and is not the password; the password goes, encrypted and
    bound to this admin, this account and this key, in an HttpOnly cookie of the accounts pages that lives
    SHOWN_TTL seconds and is deleted as the page shows it. A cookie, not the server's cache: without Redis
    each gunicorn worker has its own cache, and the redirect may land on another worker.
    """
    key = secrets.token_urlsafe(24)
    value = json.dumps({"by": admin.id, "for": user.id, "key": key, "password": password}).encode()
    return key, _sealer().encrypt(value).decode()


def take_new_password(admin, user, key, sealed):
    """The password sealed in the cookie for this admin, account and key, if not older than SHOWN_TTL; else None."""
    if not key or not sealed or len(key) > 64 or len(sealed) > 1024:
        return None
    try:
        value = json.loads(_sealer().decrypt(sealed.encode(), ttl=SHOWN_TTL))
    except (InvalidToken, ValueError):
        return None
    if (value.get("by"), value.get("for"), value.get("key")) != (admin.id, user.id, key):
        return None
    return value["password"]


def error_text(error):
    """A domain error as one Chinese sentence with its fields named: `用户名已存在（用户名：已被使用）`."""
    fields = "；".join(f"{FIELD_LABELS.get(name, name)}：{text}" for name, text in (error.fields or {}).items())
    return f"{error.message}（{fields}）" if fields else error.message


def list_url(args, **changes):
    """This list's URL with the current filters and some values changed (`forms.filtered_url`)."""
    return forms.filtered_url("console_web.accounts", given(args), **changes)


def list_paging(page, per_page, total):
    """The applications list's paging, with this list's per-page choices."""
    return forms.paging(page, per_page, total, PER_PAGE_CHOICES)


def scope_names(admin):
    """The choices of every scope as lists for the forms, and {column: {value: name}} (Forbidden but for the admin)."""
    choices = staff.scope_choices(admin)
    return choices, {column: dict(pairs) for column, pairs in choices.items()}


def rows(accounts, names):
    """Accounts as the table shows them: role and scope in words."""
    return [account_view(account, names) for account in accounts]


def account_view(account, names):
    """One account in words: 王明 · yongning · 县区专班 · 永宁县 · 在用."""
    scope = [(SCOPE_LABELS[column], names[column].get(getattr(account, column), getattr(account, column)))
             for column in staff.SCOPE_COLUMNS if getattr(account, column) is not None]
    return {"id": account.id, "username": account.username, "display_name": account.display_name,
            "role": account.role, "role_label": ROLE_LABELS.get(account.role, account.role),
            "scope": scope, "scope_text": "、".join(name for _, name in scope) or scope_label(account),
            "active": account.active, "created_at": account.created_at, "last_login_at": account.last_login_at,
            **{column: getattr(account, column) for column in staff.SCOPE_COLUMNS}}


def form_values(form):
    """The create/edit form as typed (never the password): re-shown when the service refuses it."""
    return {key: (form.get(key) or "").strip() for key in ("username", "display_name", "role", *staff.SCOPE_COLUMNS)}


def scope_args(values):
    """The scope fields of a form for the role chosen, as the service takes them (empty ones left out)."""
    return {column: values[column] for column in staff.SCOPE_COLUMNS if values.get(column)}


def form_context(choices):
    """What the create and edit forms need: roles in words, scope choices, and which scope each role takes."""
    return {"roles": [(role, ROLE_LABELS.get(role, role)) for role in ROLES], "scope_choices": choices,
            "scope_labels": SCOPE_LABELS, "scope_kinds": SCOPE_KINDS,
            "role_scopes": json.dumps({role: list(columns) for role, columns in staff.ROLE_SCOPES.items()}),
            "min_password": staff.MIN_PASSWORD_LENGTH}
