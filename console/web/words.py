"""The console's words for every status, each with the colour of its tag: one vocabulary for every page.

A tag always carries its word (colour is never the only signal, CONSOLE.md). Health, seat and
clearance words are the domain's own, the ones the exported sheets print, so a clerk reads the
same word on the screen and on paper. Colours are Bootstrap's contextual names (`text-bg-<colour>`).
"""
from app.services.credentials.certificates import STAFF_REVOKE_REASONS
from app.services.employment.isolation import KIND_NAMES
from app.services.employment.roster import ARRIVAL_STATUSES
from app.services.employment.roster_exports import (ARRIVAL_NAMES, CLEARANCE_NAMES, HEALTH_NAMES, ORDER_STATUS_NAMES,
                                                    REASON_NAMES, SOURCE_NAMES, TRANSPORT_NAMES)
from app.services.office.audit_log import ACTION_NAMES, OBJECT_NAMES
from console.web import bp

_HEALTH_COLOURS = {"green": "success", "yellow": "warning", "red": "danger", "unknown": "secondary"}
HEALTH = {status: (word, _HEALTH_COLOURS[status]) for status, word in HEALTH_NAMES.items()}
_SEAT_COLOURS = {"assigned": "secondary", "boarded": "primary", "arrived": "success", "no_show": "warning"}
SEAT = {**{status: (word, _SEAT_COLOURS[status]) for status, word in ARRIVAL_NAMES.items()},
        "isolated": ("已隔离", "danger"), "cancelled": ("已取消", "light")}
TRIP = {"draft": ("草稿", "secondary"), "published": ("已发布", "primary"), "departed": ("已发车", "info"),
        "arrived": ("已到达", "success"), "closed": ("已结束", "dark"), "cancelled": ("已取消", "danger")}
APPLICATION = {"submitted": ("待审核", "warning"), "approved": ("已通过", "success"), "rejected": ("已驳回", "danger"),
               "assigned": ("已编班", "info"), "travelled": ("已出行", "secondary"), "cancelled": ("已取消", "light")}
DIRECTION = {"outbound": "外出务工", "inbound": "返岗来银"}
HEALTH_EVENT = {"declaration": "健康申报", "pre_trip_check": "行前体温检测", "boarding": "上车扫码",
                "arrival": "到达扫码", "checkpoint": "卡口检查", "follow_up": "企业随访",
                "isolation_start": "开始隔离", "isolation_end": "解除隔离", "clearance": "方可上岗"}

_ISOLATION_COLOURS = {"pending": "warning", "active": "danger", "released": "success", "dismissed": "secondary"}
ISOLATION = {status: (word, _ISOLATION_COLOURS[status]) for status, word in ORDER_STATUS_NAMES.items()}
ISOLATION_KIND = dict(KIND_NAMES)
ISOLATION_REASON = dict(REASON_NAMES)
FEED_FLAG = {"red": "健康异常", "yellow": "健康观察", "high_risk_origin": "来自高风险地区",
             "isolate_verdict": "扫码判定隔离", "isolation_order": "已有隔离单"}


_CLEARANCE_COLOURS = {"cleared": "success", "in_observation": "warning", "isolated": "danger",
                      "not_arrived": "secondary"}
CLEARANCE = {state: (word, _CLEARANCE_COLOURS[state]) for state, word in CLEARANCE_NAMES.items()}
ARRIVAL = SEAT  # a returnee's arrival on the roster is their seat's state (the sheets print the same words)
ARRIVAL_FILTER = {status: ARRIVAL[status] for status in ARRIVAL_STATUSES}  # the roster's arrival filter, the API's choices
SOURCE = dict(SOURCE_NAMES)
FEED_SOURCE = SOURCE  # the isolation feed says where a returnee came from in the roster's words
TRANSPORT = dict(TRANSPORT_NAMES)
INTEREST = {"interested": ("有意向", "info"), "hired": ("已录用", "success"), "withdrawn": ("已撤回", "light")}
ACCOUNT = {True: ("在用", "success"), False: ("已停用", "secondary")}
# The audit log's words are the office's own (`audit_log.ACTION_NAMES`): one dictionary for page and service.
AUDIT_ACTION = ACTION_NAMES
AUDIT_OBJECT = OBJECT_NAMES
CERTIFICATE = {"valid": ("有效", "success"), "revoked": ("已撤销", "danger"), "expired": ("已过期", "secondary")}
# Why a certificate was revoked: the officer's reasons and the automatic one of a newer certificate.
CERTIFICATE_REVOKE = {**STAFF_REVOKE_REASONS, "reissued": "已换发新证明"}
CERTIFICATE_ISSUER = {"staff": "卫健人员出具", "rule": "按规则自动出具"}


def names(vocabulary):
    """Only the words of a vocabulary: {status: word}."""
    return {key: value[0] if isinstance(value, tuple) else value for key, value in vocabulary.items()}


# A template global (not a context variable), so macros imported from another template see it too.
bp.add_app_template_global({"HEALTH": HEALTH, "SEAT": SEAT, "TRIP": TRIP, "APPLICATION": APPLICATION,
                            "DIRECTION": DIRECTION, "HEALTH_EVENT": HEALTH_EVENT, "CLEARANCE": CLEARANCE,
                            "ARRIVAL": ARRIVAL, "ARRIVAL_FILTER": ARRIVAL_FILTER, "SOURCE": SOURCE, "TRANSPORT": TRANSPORT, "INTEREST": INTEREST,
                            "ISOLATION": ISOLATION, "ISOLATION_KIND": ISOLATION_KIND,
                            "ISOLATION_REASON": ISOLATION_REASON, "FEED_FLAG": FEED_FLAG,
                            "FEED_SOURCE": FEED_SOURCE, "ACCOUNT": ACCOUNT,
                            "AUDIT_ACTION": AUDIT_ACTION, "AUDIT_OBJECT": AUDIT_OBJECT, "CERTIFICATE": CERTIFICATE,
                            "CERTIFICATE_REVOKE": CERTIFICATE_REVOKE, "CERTIFICATE_ISSUER": CERTIFICATE_ISSUER},
                           "words")
