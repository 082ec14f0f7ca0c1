"""Yinchuan's reference data: counties, industrial parks, checkpoints and sample enterprises.

`load_reference_data()` upserts by natural key, so running it again changes nothing.
The enterprises are samples for trying the system, not real companies.
"""
from sqlalchemy import select

from app.extensions import db
from app.models import Checkpoint, County, Enterprise, EnterpriseJob, Park

COUNTIES = [
    ("640104", "兴庆区"),
    ("640105", "西夏区"),
    ("640106", "金凤区"),
    ("640121", "永宁县"),
    ("640122", "贺兰县"),
    ("640181", "灵武市"),
]

PARKS = [
    ("yc-etdz", "银川经济技术开发区", "640105"),
    ("yc-hitech", "银川高新技术产业开发区", "640121"),
    ("yc-ftz", "银川综合保税区", "640104"),
    ("helan-ip", "贺兰工业园区", "640122"),
    ("yongning-ip", "永宁工业园区", "640121"),
    ("lingwu-ip", "灵武羊绒产业园区", "640181"),
]

CHECKPOINTS = [
    ("hedong-airport", "银川河东国际机场", "airport", "640181"),
    ("yinchuan-railway", "银川火车站", "railway", "640106"),
    ("yinchuan-east-toll", "京藏高速银川东收费站卡口", "highway", "640104"),
    ("yinchuan-south-toll", "京藏高速银川南收费站卡口", "highway", "640121"),
    ("helan-toll", "京藏高速贺兰收费站卡口", "highway", "640122"),
]

ENTERPRISES = [
    ("（示例）银川塞上纺织有限公司", "640105", "yc-etdz", "西夏区经济技术开发区", "纺织品"),
    ("（示例）宁夏贺兰山食品有限公司", "640122", "helan-ip", "贺兰工业园区", "食品、防疫物资"),
    ("（示例）灵武羊绒制品有限公司", "640181", "lingwu-ip", "灵武羊绒产业园区", "羊绒制品"),
    ("（示例）永宁新材料科技有限公司", "640121", "yc-hitech", "永宁县望远镇", "新材料"),
    ("（示例）银川兴庆建设工程有限公司", "640104", None, "兴庆区各工地", "建筑工程"),
]

# Sample job rows (工种, 解决用工人数, 缺工人数) of the sample enterprises, so the mini-program shows vacancies.
JOBS = [
    ("（示例）银川塞上纺织有限公司", "纺织工", 20, 15),
    ("（示例）银川塞上纺织有限公司", "包装工", 10, 5),
    ("（示例）宁夏贺兰山食品有限公司", "普工", 30, 20),
    ("（示例）宁夏贺兰山食品有限公司", "叉车司机", 2, 3),
    ("（示例）灵武羊绒制品有限公司", "缝纫工", 12, 8),
    ("（示例）永宁新材料科技有限公司", "电焊工", 6, 4),
    ("（示例）银川兴庆建设工程有限公司", "钢筋工", 15, 10),
    ("（示例）银川兴庆建设工程有限公司", "木工", 8, 0),
]


def _upsert(model, key, values):
    row = db.session.scalar(select(model).filter_by(**key))
    if row is None:
        db.session.add(model(**key, **values))
        return 1
    for name, value in values.items():
        setattr(row, name, value)
    return 0


def load_reference_data():
    """Insert or refresh the reference rows and commit; returns how many were new."""
    created = 0
    for code, name in COUNTIES:
        created += _upsert(County, {"code": code}, {"name": name})
    db.session.flush()
    for code, name, county in PARKS:
        created += _upsert(Park, {"code": code}, {"name": name, "county_code": county})
    for code, name, kind, county in CHECKPOINTS:
        created += _upsert(Checkpoint, {"code": code}, {"name": name, "kind": kind, "county_code": county})
    db.session.flush()
    parks = {park.code: park.id for park in db.session.scalars(select(Park))}
    for name, county, park, location, products in ENTERPRISES:
        created += _upsert(
            Enterprise,
            {"name": name},
            {"county_code": county, "park_id": parks.get(park), "work_location": location, "products": products},
        )
    db.session.flush()
    created += _add_sample_jobs()
    db.session.commit()
    return created


def _add_sample_jobs():
    """Add the sample job rows that are missing; counts already there (hires moved them) are kept."""
    enterprises = {e.name: e.id for e in db.session.scalars(select(Enterprise).where(
        Enterprise.name.in_({name for name, *_ in JOBS})))}
    existing = set(db.session.execute(select(EnterpriseJob.enterprise_id, EnterpriseJob.job_type)).all())
    created = 0
    for name, job_type, filled, short in JOBS:
        if (enterprises[name], job_type) not in existing:
            db.session.add(EnterpriseJob(enterprise_id=enterprises[name], job_type=job_type, filled=filled,
                                         short=short))
            created += 1
    return created


def for_forms():
    """What the mini-program's pickers need: counties, enterprises, symptom codes, notice version."""
    from app.services.people import privacy
    from app.services.people.health_rules import SYMPTOMS

    return {
        "counties": db.session.scalars(select(County).order_by(County.code)).all(),
        "enterprises": db.session.scalars(select(Enterprise).order_by(Enterprise.id)).all(),
        "symptoms": [{"code": code, "name": name} for code, name in SYMPTOMS.items()],
        "privacy_notice_version": privacy.notice()["version"],
    }
