"""Request states and response methods: one vocabulary for everyone (channels are each city's: core/channels.py).

A request is complete only when closed; ``fixed`` is the one closed state in which the
problem was resolved. The other closed states say why it was closed without a fix.
"""

OPEN_STATES = ("submitted", "acknowledged", "in_progress", "scheduled")
CLOSED_STATES = ("fixed", "duplicate", "not_our_responsibility", "referred_out", "cancelled")
STATES = OPEN_STATES + CLOSED_STATES
STATE_LABELS = {
    "submitted": "Submitted",
    "acknowledged": "Acknowledged",
    "in_progress": "In progress",
    "scheduled": "Scheduled",
    "fixed": "Fixed",
    "duplicate": "Closed: duplicate",
    "not_our_responsibility": "Closed: not our responsibility",
    "referred_out": "Closed: referred to another agency",
    "cancelled": "Closed: cancelled",
}
RESPONSE_METHODS = ("email", "mail", "phone", "none")
MAX_DESCRIPTION = 4000
