"""What the system tells people, and when: each domain event's message (events) and the scheduled ones (schedule).

It sits above people (it reads clearance and health, and masks names) and below the domains whose events
write messages; the messages themselves go through the messaging package below people.
"""
