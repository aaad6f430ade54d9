"""Backups: online copies of the live database, their verification, retention and restore.

``files`` copies and checks files (SQLite's online backup API, SHA-256, ``integrity_check``),
``retention`` decides which backups a policy keeps, ``restore`` compares a backup with the live
database and copies one into it. :mod:`crm_lib.services.backups` is the API front ends call: it
records each backup in the ``backups`` table and checks who may restore.
"""
