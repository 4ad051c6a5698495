"""Ranking served to the app: the live matches of one need."""

from moraspar.ranking.services import LiveMatch, live_matches

__all__ = ["LiveMatch", "live_matches"]
