"""Moraspår matching: rank offers for needs and allocate students to places."""

from matching.allocation import allocate
from matching.errors import (
    DuplicateId,
    InvalidArgument,
    InvalidMatch,
    InvalidPosting,
    InvalidWeights,
    MatchingError,
)
from matching.postings import Posting
from matching.ranking import Ranker, Weights, rank
from matching.results import Assignment, Match, Reason

__all__ = [
    "Assignment",
    "DuplicateId",
    "InvalidArgument",
    "InvalidMatch",
    "InvalidPosting",
    "InvalidWeights",
    "Match",
    "MatchingError",
    "Posting",
    "Ranker",
    "Reason",
    "Weights",
    "allocate",
    "rank",
]
