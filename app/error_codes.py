"""Every error code the API answers with: its usual HTTP status and what it means, in Chinese.

The README's list of codes is printed from here (`flask --app wsgi errors`), and a test fails
when a code raised anywhere in the source is missing here, or listed here but never raised,
or when README's list differs from this one.
"""

# code → (HTTP status, meaning). A raise site may say more in its own message.
CODES = {
    # Answers of the HTTP layer itself (any route); app/errors.py answers with these messages.
    "bad_request": (400, "请求格式有误"),
    "unauthorized": (401, "请先登录"),
    "forbidden": (403, "无权进行此操作"),
    "not_found": (404, "未找到该资源"),
    "method_not_allowed": (405, "不支持该请求方法"),
    "conflict": (409, "与当前状态冲突"),
    "payload_too_large": (413, "请求内容过大"),
    "uri_too_long": (414, "请求地址过长（gunicorn 或 nginx 在应用之前拒绝）"),
    "expectation_failed": (417, "不支持该 Expect 请求头（gunicorn 拒绝）"),
    "headers_too_large": (431, "请求头过大（gunicorn 拒绝）"),
    "not_implemented": (501, "不支持该传输编码（gunicorn 拒绝）"),
    "overloaded": (503, "服务繁忙，请按 Retry-After 稍后再试（nginx 限流或排队超时）"),
    "body_not_json": (415, "请求体未按 JSON 读取：请加上请求头 Content-Type: application/json"),
    "unsupported_media_type": (415, "请以 JSON 格式提交"),
    "validation_error": (422, "请求参数有误，请检查各字段"),
    "rate_limited": (429, "请求过于频繁，请稍后再试"),
    "internal_error": (500, "服务器内部错误，请稍后再试"),
    "unavailable": (503, "服务暂时不可用，请稍后再试"),
    "write_conflict": (503, "数据写入冲突（数据库集群中同时写入），已重试仍未成功，请按 Retry-After 稍后再试"),
    "http_error": (400, "请求无法处理"),
    # Login and accounts.
    "wechat_code_invalid": (401, "微信登录凭证无效或已过期"),
    "wechat_code_used": (401, "微信登录凭证已被使用"),
    "dev_code_invalid": (422, "开发登录码应为 dev:<名字>"),
    "wechat_not_configured": (503, "微信接口未配置（登录、手机号）"),
    "wechat_rate_limited": (503, "调用微信接口过于频繁（登录、手机号）"),
    "wechat_busy": (503, "微信服务繁忙（登录、手机号）"),
    "wechat_unreachable": (503, "无法连接微信服务（登录、手机号）"),
    "wechat_error": (503, "微信接口返回错误（登录、手机号）"),
    # Messages (订阅消息).
    "subscription_invalid": (422, "订阅结果有误：模板不属于本小程序，或结果不是 accept/reject/ban/filter"),
    "link_code_invalid": (422, "小程序绑定码不正确或已过期（在控制台“通知”页重新生成）"),
    "link_code_attempts": (422, "小程序绑定码错误次数过多，10 分钟后再试"),
    "staff_link_taken": (409, "该微信已绑定另一个控制台账号"),
    "staff_link_missing": (404, "未绑定（控制台账号与小程序之间）"),
    "invalid_credentials": (401, "用户名或密码错误"),
    "wrong_password": (422, "当前密码不正确（修改密码时）"),
    "csrf_failed": (403, "页面已过期或来源不明（CSRF 校验未通过），请刷新页面后重试"),
    "login_throttled": (429, "该用户名在此地址登录失败过多，请按 details.retry_after 秒后再试"),
    "username_taken": (409, "用户名已存在"),
    "self_lockout": (422, "管理员不能停用自己或取消自己的管理员角色"),
    "last_admin": (422, "不能停用或降级最后一个可用的管理员账号"),
    "forbidden_role": (403, "当前角色无权进行此操作"),
    # Planning and closing trips.
    "plan_out_of_scope": (403, "只能在本人管辖的县区或园区内编班（fields 指明字段）"),
    "before_departure": (409, "发车时间未到，不能结束车次"),
    "boarding_open": (409, "仍可上车，上车截止后才能结束车次"),
    "no_shows_unconfirmed": (409, "结束车次将记未乘车人数（details.no_shows），请确认该人数后重试"),
    "trip_not_closed": (409, "车次未结束，无需重新开启"),
    "credential_window_over": (409, "车次二维码有效期已过，不能重新开启"),
    # Worker profile and health.
    "consent_required": (422, "请先阅读并同意隐私说明"),
    "consent_version_mismatch": (422, "隐私说明已更新，请同意最新版本"),
    "profile_incomplete": (422, "请先完善个人信息"),
    "id_number_taken": (409, "该身份证号已被其他账号登记"),
    "id_number_registered_by_employer": (409, "该身份证号已由企业登记，请核对"),
    "phone_code_invalid": (422, "手机号授权已失效，请重新点击获取手机号"),
    "phone_quota_exhausted": (503, "微信手机号快速验证额度已用完，请手动填写手机号"),
    "phone_not_mainland": (422, "微信绑定的不是中国大陆手机号，请手动填写"),
    "content_risky": (422, "提交的文字含有不适宜的内容（fields 指明字段），请修改后再提交"),
    "declaration_required": (422, "请先进行健康申报"),
    "health_red": (409, "健康状态为红色，暂不能出行"),
    # Travel applications and review.
    "application_not_found": (404, "没有找到这条报名"),
    "application_active": (409, "已有进行中的报名"),
    "application_not_cancellable": (409, "该报名当前不能取消"),
    "application_not_decidable": (409, "该报名当前不能审核"),
    "application_status_conflict": (409, "该报名当前状态不允许此操作"),
    "reason_required": (422, "请填写原因"),
    "trip_under_way": (409, "车次已出发，不能取消报名"),
    # Plans and trips.
    "plan_not_found": (404, "没有找到该编班方案"),
    "plan_not_draft": (409, "方案已发布或已作废"),
    "plan_changed": (409, "该方案已被他人修改，请刷新后再操作"),
    "trip_not_found": (404, "没有找到该车次"),
    "trip_not_editable": (409, "车次当前不能修改"),
    "trip_not_cancellable": (409, "车次不能取消：草稿车次请在方案中调整，已出发或已取消的车次不能取消"),
    "trip_full": (409, "车次已满"),
    "same_trip": (409, "乘客已在该车次"),
    "different_route": (409, "只能调到同一出发地、目的地的车次"),
    "outside_window": (409, "车次出发日期不在乘客报名的日期范围内"),
    "seat_not_found": (404, "没有找到该座位"),
    "signing_key_missing": (503, "尚未配置二维码签名密钥"),
    # Check-in.
    "not_a_scanner": (403, "不是该车次的车长或卡口人员，或不在扫码时间"),
    "kind_not_allowed": (403, "该身份不能扫这一类"),
    "wrong_checkpoint": (403, "不是本卡口"),
    "checkpoint_not_found": (404, "没有该卡口"),
    "client_event_id_taken": (409, "client_event_id 已被其他扫码员使用"),
    "trip_not_open": (409, "车次未发布或已结束"),
    "trip_not_departed": (409, "车次尚未出发，不能结束"),
    # Enterprises, vacancies, rosters, isolation, office.
    "enterprise_not_found": (404, "没有找到该企业"),
    "enterprise_name_taken": (409, "企业名称已存在"),
    "enterprise_out_of_scope": (403, "企业不在管辖范围内"),
    "park_not_in_county": (422, "园区不在该县区"),
    "field_not_editable": (403, "当前角色不能修改该字段（fields 指明字段）"),
    "job_not_found": (404, "没有找到该工种"),
    "job_type_taken": (409, "该工种已存在"),
    "job_has_interests": (409, "已有务工人员报名该工种，不能删除"),
    "vacancy_not_found": (404, "没有找到该岗位"),
    "vacancy_filled": (409, "岗位已招满"),
    "interest_not_found": (404, "没有找到该意向"),
    "interest_not_open": (409, "该意向已处理"),
    "interest_hired": (409, "已被录用，如需放弃请联系企业"),
    "no_shortage": (409, "该工种已不缺工"),
    "already_on_roster": (409, "已在花名册中"),
    "identity_mismatch": (409, "身份证号与姓名不符"),
    "returnee_not_found": (404, "花名册中没有该人员"),
    "returnee_not_arrived": (409, "尚未返回，不能随访"),
    "follow_up_exists": (409, "当天已有随访记录"),
    "worker_not_found": (404, "没有找到该务工人员"),
    "isolation_order_not_found": (404, "没有找到该隔离单"),
    "isolation_order_open": (409, "已有未结束的隔离单"),
    "isolation_order_not_pending": (409, "隔离单不是待处理状态"),
    "isolation_order_not_active": (409, "隔离单不是隔离中状态"),
    "content_check_not_found": (404, "没有找到该内容审核记录"),
    "content_check_not_open": (409, "该内容无需处理（待复查或已通过）"),
    "content_check_handled": (409, "该内容已处理"),
    # Health certificates (健康证明).
    "certificate_not_eligible": (409, "不符合出具健康证明的条件（details.missing 逐项说明）"),
    "certificate_not_available": (404, "暂无有效的健康证明（details.missing 说明缺少什么）"),
    "certificate_not_found": (404, "没有找到该健康证明"),
    "certificate_already_revoked": (409, "该健康证明已撤销"),
    "liaison_unit_not_found": (404, "没有找到该联络单位"),
    "liaison_unit_exists": (409, "该联络单位已存在"),
    "county_out_of_scope": (403, "县区不在管辖范围内"),
    # Mutual recognition (互认): partners' trust lists, certificates at the checkpoint.
    "fingerprint_invalid": (422, "根密钥指纹应为 64 位十六进制字符"),
    "not_a_trust_list": (422, "不是信任列表"),
    "fingerprint_mismatch": (422, "信任列表的根密钥指纹与给定的不符"),
    "trust_list_signature_invalid": (422, "信任列表签名无效"),
    "trust_list_expired": (422, "信任列表已过有效期"),
    "trust_list_older": (409, "信任列表比已导入的更旧，未替换"),
    "trust_list_wrong_deployment": (409, "信任列表属于另一个部署"),
    "trust_list_from_future": (422, "信任列表的签发时间晚于本机时间，请核对双方时钟"),
    "trust_list_county_taken": (409, "信任列表声称可为本部署或另一已导入部署的区县签发，拒绝导入"),
    "trust_list_counties_widened": (409, "信任列表新增了导入时未确认的区县，需删除后重新导入以确认"),
    "trust_list_unreachable": (503, "无法获取信任列表"),
    "trust_source_invalid": (422, "信任列表来源应为 http(s) 地址或可读的文件"),
    "own_deployment": (409, "这是本部署自己的信任列表"),
    "partner_exists": (409, "已导入该部署，更新请用 flask trust sync"),
    "partner_not_found": (404, "没有导入该部署"),
    "certificate_refused": (422, "健康证明未通过核验，不能据此登记（details.reason 为原因）"),
    "id_number_registered_at_checkpoint": (409, "该身份证号已在卡口登记，请核对姓名和手机号"),
}


def message(code):
    """The registered Chinese meaning of a code."""
    return CODES[code][1]


def readme_table():
    """The README's list of codes, as a Markdown table ordered by status then code."""
    lines = ["| code | HTTP | 含义 |", "|---|---|---|"]
    for code, (status, meaning) in sorted(CODES.items(), key=lambda item: (item[1][0], item[0])):
        lines.append(f"| `{code}` | {status} | {meaning} |")
    return "\n".join(lines)
