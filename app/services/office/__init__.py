"""The coordination office (领导小组办公室): liaison list (附件1), dashboard figures, feeds to the isolation and checkpoint groups, retention, and Yinchuan's reference data.

Console menus 看板 · 联络员 · 导出.
"""
