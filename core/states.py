"""Request states and response methods: one vocabulary for everyone (channels are each city's: core/channels.py).

A request is complete only when closed; ``fixed`` is the one closed state in which the
problem was resolved. The other closed states say why it was closed without a fix.
The labels are English, marked for the catalogues (``N_``): a page or an e-mail for a
resident translates them where it shows them.
"""

from core.i18n import N_

OPEN_STATES = ("submitted", "acknowledged", "in_progress", "scheduled")
CLOSED_STATES = ("fixed", "duplicate", "not_our_responsibility", "referred_out", "cancelled")
STATES = OPEN_STATES + CLOSED_STATES
STATE_LABELS = {
    "submitted": N_("Submitted"),
    "acknowledged": N_("Acknowledged"),
    "in_progress": N_("In progress"),
    "scheduled": N_("Scheduled"),
    "fixed": N_("Fixed"),
    "duplicate": N_("Closed: duplicate"),
    "not_our_responsibility": N_("Closed: not our responsibility"),
    "referred_out": N_("Closed: referred to another agency"),
    "cancelled": N_("Closed: cancelled"),
}
RESPONSE_METHODS = ("email", "mail", "phone", "none")
#: How each response method reads on a page ("reply by e-mail"), never the bare key.
RESPONSE_METHOD_LABELS = {"email": "e-mail", "mail": "post", "phone": "phone", "none": "no reply wanted"}
#: Each kind of request history event, in words.
EVENT_KIND_LABELS = {
    "created": N_("Created"),
    "assigned": N_("Assigned"),
    "status": N_("Status changed"),
    "reopened": N_("Reopened"),
    "note": N_("Note"),
    "details_public": N_("Details made public"),
    "details_private": N_("Details made private"),
    "escalated": N_("Escalated"),
    "reply": N_("Reply sent"),
    "photo_added": N_("Photo added"),
    "photo_hidden": N_("Photo hidden"),
    "photo_shown": N_("Photo shown again"),
}
MAX_DESCRIPTION = 4000
