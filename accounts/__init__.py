"""Staff accounts: users and roles, passwords and sessions, lockout, and the audit log.

Residents need no account: they follow their request by its unguessable reference.
"""
