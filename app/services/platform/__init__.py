"""Shared platform pieces every domain stands on: cache, tokens, time, scope, audit, field rights, WeChat, xlsx, health check.

They know nothing of the notice's work; every other package may import them. (Field encryption,
`app/crypto.py`, sits below even the models, because a Worker decrypts its own birth date.)
"""
