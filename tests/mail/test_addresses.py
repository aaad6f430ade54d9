"""Addresses as the matcher compares them."""

from __future__ import annotations

import pytest

from crm_lib.mail.addresses import (
    canonical,
    domain_of,
    is_public_domain,
    is_role_address,
    website_domain,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Jane.Doe@LP.example", "jane.doe@lp.example"),
        ("<jane+crm@lp.example>", "jane@lp.example"),
        ("J.A.N.E@googlemail.com", "jane@gmail.com"),
        ("jane.doe+fund3@gmail.com", "janedoe@gmail.com"),
        ("jane.doe@outlook.com", "jane.doe@outlook.com"),  # dots matter outside Gmail
        ("not an address", None),
        ("@lp.example", None),
        ("+tag@lp.example", None),
    ],
)
def test_canonical_spellings(given: str, expected: str | None) -> None:
    assert canonical(given) == expected


def test_domains_roles_and_websites() -> None:
    assert domain_of("x@GoogleMail.com") == "gmail.com" and is_public_domain("Gmail.com")
    assert not is_public_domain("lp.example")
    assert is_role_address("noreply@lp.example") and is_role_address("Info+x@lp.example")
    assert is_role_address("no-reply-42@lp.example") and not is_role_address("jane@lp.example")
    assert website_domain("https://www.Acme.example/about?x=1") == "acme.example"
    assert website_domain("acme.example:8080") == "acme.example"
    assert website_domain("gmail.com") is None and website_domain("") is None
