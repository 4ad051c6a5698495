"""Named exceptions raised by the matching library."""

from __future__ import annotations


class MatchingError(ValueError):
    """Base class of every error the matching library raises on bad input."""


class InvalidPosting(MatchingError):
    """A posting breaks a field rule (count < 1, end before start, bad coordinates,
    negative max_km, empty id or kind).

    `posting_id` and `field` say which posting and field, for a form error.
    """

    def __init__(self, message: str, *, posting_id: str = "", field: str = "") -> None:
        super().__init__(message)
        self.posting_id = posting_id
        self.field = field


class DuplicateId(MatchingError):
    """Two needs, or two offers, share an id."""

    def __init__(self, message: str, *, posting_id: str = "") -> None:
        super().__init__(message)
        self.posting_id = posting_id


class InvalidMatch(MatchingError):
    """A match given to `allocate` names an unknown need or offer, or is misfiled."""


class InvalidWeights(MatchingError):
    """Weights are negative, not finite, or all zero."""


class InvalidArgument(MatchingError):
    """A keyword argument is out of range (k < 1, max_per_offer < 1, ...)."""


class InvalidModelFile(MatchingError):
    """A saved model file is missing, damaged or not a model file."""


class UnsupportedModelVersion(InvalidModelFile):
    """A saved model file has a format version this library does not read."""

    def __init__(self, message: str, *, version: object = None) -> None:
        super().__init__(message)
        self.version = version
