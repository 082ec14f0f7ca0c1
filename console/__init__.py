"""The staff face, /api/console/v1: review, planning, enterprises, isolation, exports.

Its routes arrive with staff accounts (issue 3).
"""
