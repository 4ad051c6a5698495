"""From an approved proposal to a booking: confirmations, calendar, evaluations."""
