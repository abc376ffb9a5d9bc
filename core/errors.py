"""Errors a person can act on.

Every error raised for bad input or a bad setup derives from :class:`UserError`: its
message is one plain sentence naming the problem and the fix, safe to show on a page,
in a CLI message or in an API error body.
"""


class UserError(Exception):
    """A problem the user can fix; the message says what and how."""


class ConfigError(UserError):
    """The settings or the city configuration are wrong or incomplete."""


class DataFileError(UserError):
    """A data file is missing, unreadable or does not hold what it should."""


class DatabaseUnavailable(UserError):
    """The database cannot be reached or started.

    The exception to "safe to show on a page": the message is for the operator (it names
    the cluster's folder, its log lines and how to start afresh); web pages say only that
    the service is unavailable (``app.web.errors.unavailable_message``) and log the message.
    """


class InvalidCoordinates(UserError):
    """A longitude/latitude pair that is not a point on Earth."""
