"""Privacy: a user's own data, self-service deletion, and retention."""
