"""Linking mail already stored to people added (or given another address) after it arrived.

A person added by hand, by an import or with an alias gets their past mail: the stored messages
to or from their addresses are linked to them and their investor, and the investor's signals
recomputed, in the caller's transaction. One pass over the stored messages serves any number of
people (an import of 10,000 people reads the mail once); a database without mail costs one
query.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from crm_lib.mail import signals
from crm_lib.mail.addresses import canonical, domain_of
from crm_lib.storage.writes import WriteTransaction

LINKS = "email_investor_links"


def relink(tx: WriteTransaction, people: Mapping[str, list[tuple[int, int]]]) -> int:
    """Link stored mail to ``people`` (canonical address -> [(person id, investor id)]);
    returns how many links were made."""
    targets = {key: found for key, found in people.items() if key and found}
    if not targets or tx.conn.execute("SELECT 1 FROM emails LIMIT 1").fetchone() is None:
        return 0
    domains = sorted({domain_of(k) for k in targets})
    rows = []
    for start in range(0, len(domains), 50):  # a prefilter on domains, then exact addresses
        part = domains[start : start + 50]
        clauses = " OR ".join(
            "from_address LIKE ? OR to_addresses LIKE ? OR cc_addresses LIKE ?" for _ in part
        )
        rows += tx.conn.execute(
            "SELECT id, from_address, to_addresses, cc_addresses FROM emails"
            f" WHERE deleted_at IS NULL AND direction != 'internal' AND ({clauses})",
            [f"%@{d}%" for d in part for _ in range(3)],
        ).fetchall()
    made = 0
    touched: set[int] = set()
    for email_id, sender, to, cc in dict((r[0], r) for r in rows).values():
        for address in (sender, *json.loads(to), *json.loads(cc)):
            for person_id, investor_id in targets.get(canonical(address) or "", ()):
                exists = tx.conn.execute(
                    f"SELECT 1 FROM {LINKS} WHERE email_id = ? AND investor_id = ?"
                    " AND deleted_at IS NULL",
                    [email_id, investor_id],
                ).fetchone()
                if exists is None:
                    tx.insert(
                        LINKS,
                        {
                            "email_id": email_id,
                            "investor_id": investor_id,
                            "person_id": person_id,
                            "method": "person",
                        },
                    )
                    made += 1
                    touched.add(investor_id)
    if touched:
        signals.recompute(tx, tx.ctx.clock.now(), touched)
    return made
