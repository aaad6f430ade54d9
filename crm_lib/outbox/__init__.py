"""Sending mail from the CRM (the digest; later, automation drafts): the message, and the two
transports that deliver it, Gmail through the service account and SMTP."""
