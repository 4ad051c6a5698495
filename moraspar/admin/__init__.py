"""Admin: the business office manages users, organisations and the audit log."""
