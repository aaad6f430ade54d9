"""Questions in plain English answered by read-only SQL (issue 20): the validator first."""
