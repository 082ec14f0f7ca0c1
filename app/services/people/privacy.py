"""The privacy notice (隐私说明) a worker must accept before giving personal data."""
from flask import current_app

NOTICE_TEXT = """返岗通隐私说明

一、收集的信息：姓名、身份证号、手机号、户籍所在县乡、现住址、技能与求职意向、用工单位，
以及您申报和扫码时记录的体温、症状、接触史、途经地。
二、用途：仅用于农民工返岗复工“点对点”运输的报名审核、编班编组、乘车核验、
到达登记和疫情防控健康管理，依据《关于做好农民工返岗复工“点对点”服务保障工作的通知》。
三、保护：身份证号和手机号加密保存，对外一律脱敏显示；只有职责需要的工作人员可查看，
每次查看完整信息均有记录。
四、保存期限：个人信息自最后一次使用起保存{retention_days}天，期满后删除或匿名化。
五、您的权利：可随时查看和更正个人信息；如需删除或有疑问，请联系所在县区人社部门。"""


def notice():
    """The current notice: {"version", "text"}."""
    return {"version": current_app.config["PRIVACY_NOTICE_VERSION"],
            "text": NOTICE_TEXT.format(retention_days=current_app.config["RETENTION_DAYS"])}
