"""Web plumbing: access rules, the menu, error pages, security headers,
rate limits, pagination and downloads."""
