"""Home, language choice, health and public pages."""
