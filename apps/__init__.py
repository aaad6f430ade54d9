"""Venture CRM front ends: Panel pages and REST handlers. Thin: no SQL, no business rules."""
