"""Competence councils: match runs, review board, decisions."""
