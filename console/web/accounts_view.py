"""What the 账号 pages show and read: account rows with their scope in words, the forms' fields, paging.

No rule lives here: which scope a role takes, the password and username rules and who may manage
accounts are `staff`'s (`ROLE_SCOPES`, `create_staff`, `update_staff`…); this module only turns
form fields into the service's arguments and the service's answers into words.
"""
import json
import secrets

from flask import url_for

from app.errors import Invalid
from app.models.staff import ROLES
from app.services.accounts import staff
from app.services.platform import cache
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
_SHOWN_KEY = "console:new-password:{}"


def keep_new_password(admin, user, password):
    """Keep a generated password server-side for the one GET after the redirect; returns the one-time key.

    The key (random, in the redirect's URL) is not the password; the password stays in the server's cache,
    bound to this admin and this account, until shown once or for SHOWN_TTL seconds.
    """
    key = secrets.token_urlsafe(24)
    value = json.dumps({"by": admin.id, "for": user.id, "password": password}).encode()
    cache.set_bytes(_SHOWN_KEY.format(key), value, SHOWN_TTL)
    return key


def take_new_password(admin, user, key):
    """The password kept under `key` for this admin and account, forgotten as it is read; None if none (any more)."""
    if not key or len(key) > 64:
        return None
    stored = cache.get_bytes(_SHOWN_KEY.format(key))
    if stored is None:
        return None
    value = json.loads(stored)
    if (value.get("by"), value.get("for")) != (admin.id, user.id):
        return None
    cache.delete(_SHOWN_KEY.format(key))
    return value["password"]


def error_text(error):
    """A domain error as one Chinese sentence with its fields named: `用户名已存在（用户名：已被使用）`."""
    fields = "；".join(f"{FIELD_LABELS.get(name, name)}：{text}" for name, text in (error.fields or {}).items())
    return f"{error.message}（{fields}）" if fields else error.message


def list_url(args, **changes):
    """The list URL with the current filters and some values changed (page=3)."""
    values = {**given(args), **{key: str(value) for key, value in changes.items()}}
    return url_for("console_web.accounts", **values)


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
