"""Email capture: reading messages (Gmail, mbox, .eml), linking them to investors and people.

This package never imports Panel; the services in :mod:`crm_lib.services` call it.
"""
