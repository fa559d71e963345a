"""The one exception type for mistakes a user can make (bad config, unknown id, bad files)."""


class UserError(Exception):
    """A problem the user can fix; the CLI prints its message on one line and exits 2."""


def require_positive(settings: object, *keys: str) -> None:
    """UserError naming the first of ``keys`` whose value on ``settings`` is not > 0."""
    for key in keys:
        value = getattr(settings, key)
        if value <= 0:
            raise UserError(f"'{key}' must be positive, got {value}")
