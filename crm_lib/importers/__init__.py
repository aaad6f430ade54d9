"""Importers: other systems' exports turned into investors, people and commitments.

``sniff`` reads a CSV file of unknown origin (encoding, dialect, line endings, limits), ``cells``
turns Airtable's cell text into typed values, ``columns`` proposes what each column means,
``plan`` compares the file with the database, and ``airtable`` is the public entry point
(:func:`~crm_lib.importers.airtable.preview`, :func:`~crm_lib.importers.airtable.run`), which writes
through the services in one transaction.
"""
