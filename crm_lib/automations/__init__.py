"""Automations: rules that read as a sentence ("When <trigger>, if <conditions>, then
<actions>") and keep lists, follow-ups and tasks right.

* :mod:`.triggers`: what starts a rule (time-based ones with their SQL; events).
* :mod:`.actions`: what it does, planned as changes before anything is written.
* :mod:`.rules`: a rule checked and as its sentence.
* :mod:`.engine`: a run (dry or real), the cap, one transaction per investor, the run log.
* :mod:`.templates`: ready-made rules.

The services in :mod:`crm_lib.services.automations` are the way in.
"""
