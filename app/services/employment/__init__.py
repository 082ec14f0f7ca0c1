"""Employment (复工复产): enterprises and vacancies (附件2), the roster of returnees (花名册), daily follow-ups (随访) and isolation orders (隔离管理).

Console menus 花名册 · 零散返岗登记 · 每日随访 · 岗位与缺工 · 隔离管理.
"""
