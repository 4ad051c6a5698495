"""Ranking served to the app: the stored model, and the live matches of one
need ranked with it."""

from moraspar.ranking.served import (
    ModelStatus,
    Refresh,
    ServedModel,
    clear_cache,
    current,
    current_model,
    model_status,
    refresh_model,
)
from moraspar.ranking.services import LiveMatch, live_matches

__all__ = [
    "LiveMatch",
    "ModelStatus",
    "Refresh",
    "ServedModel",
    "clear_cache",
    "current",
    "current_model",
    "live_matches",
    "model_status",
    "refresh_model",
]
