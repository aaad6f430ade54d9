"""Authentication building blocks with no database in them: password hashing and policy, random
tokens, the secret key, role permissions and rate limits.

The account, session and token *services* that store things live in :mod:`crm_lib.services`
(``accounts``, ``sessions``, ``api_tokens``); they use these helpers.
"""
