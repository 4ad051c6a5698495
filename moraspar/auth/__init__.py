"""Sign-in, passwords, invitations and registration."""
