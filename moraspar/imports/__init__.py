"""Imports: the business office loads companies and placements from a CSV file."""
