"""Moraspår matching: rank offers for needs and allocate students to places."""

from matching.allocation import allocate
from matching.errors import (
    DuplicateId,
    InvalidArgument,
    InvalidMatch,
    InvalidModelFile,
    InvalidPosting,
    InvalidWeights,
    MatchingError,
    UnsupportedModelVersion,
)
from matching.keys import skill_key
from matching.postings import Posting
from matching.ranking import OfferIndex, Ranker, Weights, fit, load_model, rank
from matching.results import Assignment, Match, Reason

__all__ = [
    "Assignment",
    "DuplicateId",
    "InvalidArgument",
    "InvalidMatch",
    "InvalidModelFile",
    "InvalidPosting",
    "InvalidWeights",
    "Match",
    "MatchingError",
    "OfferIndex",
    "Posting",
    "Ranker",
    "Reason",
    "UnsupportedModelVersion",
    "Weights",
    "allocate",
    "fit",
    "load_model",
    "rank",
    "skill_key",
]
