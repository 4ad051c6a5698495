"""Council meetings: agenda, decisions, and the exported minutes."""
