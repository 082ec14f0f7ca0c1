"""The scanner face (captains and checkpoints), /api/checkin/v1: trip keys, scans, offline bundles.

Its routes arrive with the trip credential (issue 3) and check-in (issue 4).
"""
