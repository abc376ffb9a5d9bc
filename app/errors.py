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
    """The database cannot be reached or started."""


class InvalidCoordinates(UserError):
    """A longitude/latitude pair that is not a point on Earth."""
