"""Companies: profile, placements and skill gaps."""
