"""The one exception type for mistakes a user can make (bad config, unknown id, bad files)."""


class UserError(Exception):
    """A problem the user can fix; the CLI prints its message on one line and exits 2."""
