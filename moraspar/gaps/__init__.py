"""The skills-gap picture: demand (skill gaps) against supply (programmes)."""
