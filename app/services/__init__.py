"""Domain services, one package per part of the notice's work, lowest first:

platform → accounts → people → credentials → transport → scanning → employment → office.

A module imports its own package and the ones before it, never one after (tests/test_layers.py).
Faces (miniprogram_api, checkin, console) call these; these call the models.
"""
