"""Messages to workers and staff: templates, the outbox, one-time grants, the sender (订阅消息)."""
