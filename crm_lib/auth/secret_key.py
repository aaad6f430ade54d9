"""The server's secret key: what signs session cookies and derives CSRF tokens.

In production the key must come from ``CRM_SECRET_KEY`` and carry at least 256 bits of estimated
entropy; the server refuses to start otherwise and says how to make one. In development an unset
key is generated once and kept in ``<data dir>/secret_key`` (mode 0600), so logins survive
restarts without any setup.

How the entropy is estimated (:func:`estimate`), smallest of three figures:

* **capacity**: ``n * log2(alphabet)``, where the alphabet is the smallest standard one holding
  every character of the key (hex digits 16, letters and digits 62, base64url 64, printable ASCII
  95, ...). 64 hex digits give exactly 256 bits; 64 base64url characters give 384.
* **patterns**: the key read the way a guesser reads it. zxcvbn's matchers find dictionary words
  (also reversed and l33t), keyboard runs, sequences, dates and repeats; a dynamic programme picks
  the cheapest reading, pricing each match (of 3+ characters) at zxcvbn's guess count and every
  other character at the alphabet's rate. A random key always holds a few short coincidental
  matches (on 1,000 generated keys of each kind, ``token_hex(32)``, ``token_urlsafe(32)`` and
  ``token_urlsafe(48)``, the cheapest reading never fell below 71% of the capacity), whereas
  keys made of words, walks or repeats fall below half (keyboard walks, sequences and repeats:
  3-30%; sentences, l33t phrases, passphrases, words around a random part: 28-48%). So the
  patterns count only when they take more than 40% off the capacity (below
  :data:`PATTERNED_BELOW`): then they are the estimate.
* **compressed size**: zlib's output in bits, which catches repetition across a long key.

``secrets.token_urlsafe(48)`` (what the message tells people to run: 64 characters, about 381-384
bits by this measure) and ``secrets.token_hex(32)`` (64 hex digits, exactly 256) always pass.
``token_urlsafe(32)`` (43 characters) sits at the limit: it passes unless it happens to hold no
digit and no ``-``/``_`` (about 1 in 7,000 keys), so the docs recommend 48 bytes. Published
placeholder values are refused by name whatever their length.
"""

from __future__ import annotations

import functools
import math
import os
import re
import secrets
import string
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from zxcvbn.matching import RANKED_DICTIONARIES, build_ranked_dict, omnimatch
from zxcvbn.scoring import estimate_guesses

from crm_lib.config import Settings
from crm_lib.errors import ConfigError

#: Bits of estimated entropy a production key needs (a 256-bit HMAC key, as for HMAC-SHA256).
MIN_ENTROPY_BITS = 256
MAKE_ONE = 'python3 -c "import secrets; print(secrets.token_urlsafe(48))"'
#: The cheapest pattern reading counts only below this share of the capacity (see above).
PATTERNED_BELOW = 0.6
#: Shorter matches are the coincidences every random string holds (two-letter words, "12").
MIN_PATTERN_CHARS = 3
#: zxcvbn's matchers slow down with length; longer keys are read in pieces of this size.
CHUNK = 96

#: Placeholders people paste from docs and templates. Compared after lower-casing and dropping
#: everything but letters and digits. Our own README and SECURITY.md show only the command that
#: makes a key, never a value (tests/auth/test_secret_key.py checks that any value they ever show
#: is refused).
KNOWN_EXAMPLES = (
    "changeme",
    "changeit",
    "changethis",
    "replaceme",
    "secret",
    "secretkey",
    "mysecret",
    "mysecretkey",
    "supersecret",
    "supersecretkey",
    "yoursecretkey",
    "yoursecretkeyhere",
    "crmsecretkey",
    "venturecrm",
    "password",
    "insecure",
    "development",
    "example",
    "test",
    "todo",
    # tornado's documentation and demos
    "todogenerateyourownrandomvaluehere",
    # Django's project template prefix for its insecure development keys
    "djangoinsecure",
)
#: zxcvbn's word lists plus the examples, in a dictionary of our own: zxcvbn's ``zxcvbn()`` keeps
#: the last caller's ``user_inputs`` in its module-level one (password checks put names there).
_EXAMPLE_WORDS = {
    **{name: words for name, words in RANKED_DICTIONARIES.items() if name != "user_inputs"},
    "crm_examples": build_ranked_dict(list(KNOWN_EXAMPLES)),
}

#: Standard alphabets, smallest first: a key is scored by the first that holds all its characters.
ALPHABETS: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (name, frozenset(chars))
    for name, chars in (
        ("digits", string.digits),
        ("hex digits", "0123456789abcdef"),
        ("hex digits", "0123456789ABCDEF"),
        ("lower-case letters", string.ascii_lowercase),
        ("upper-case letters", string.ascii_uppercase),
        ("lower-case letters and digits", string.ascii_lowercase + string.digits),
        ("upper-case letters and digits", string.ascii_uppercase + string.digits),
        ("letters", string.ascii_letters),
        ("letters and digits", string.ascii_letters + string.digits),
        ("base64url", string.ascii_letters + string.digits + "-_"),
        ("base64", string.ascii_letters + string.digits + "+/="),
        ("printable ASCII", string.ascii_letters + string.digits + string.punctuation + " "),
    )
)
_PRINTABLE = ALPHABETS[-1][1]


@dataclass(frozen=True)
class Estimate:
    """How much randomness a key holds, and which reading limits it (never the key itself)."""

    bits: float
    length: int
    alphabet: int
    alphabet_name: str
    capacity_bits: float
    pattern_bits: float
    compressed_bits: float
    #: "capacity", "patterns" or "repetition": which of the three figures is the estimate
    limited_by: str

    @property
    def why(self) -> str:
        """What keeps the estimate low, in words."""
        if self.limited_by == "repetition":
            return "it repeats itself"
        if self.limited_by == "patterns":
            return "it is built from words, keyboard runs, sequences, dates or repeats"
        return (
            f"{self.length} characters drawn from {self.alphabet} symbols ({self.alphabet_name}) "
            f"hold at most {self.capacity_bits:.0f} bits"
        )


def _alphabet(key: str) -> tuple[str, int]:
    chars = set(key)
    for name, alphabet in ALPHABETS:
        if chars <= alphabet:
            return name, len(alphabet)
    # Beyond ASCII there is no standard alphabet: count what the key itself uses on top.
    return "printable ASCII and other characters", len(_PRINTABLE) + len(chars - _PRINTABLE)


def _log2(guesses: Decimal | int | float) -> float:
    # zxcvbn returns Decimals that can exceed a float's range for long repeats
    return float(Decimal(guesses).ln() / Decimal(2).ln())


def _pattern_bits(piece: str, bits_per_char: float) -> float:
    """The cheapest reading of ``piece``: matches at their guess counts, the rest at the
    alphabet's rate (dynamic programme over zxcvbn's candidate matches)."""
    ending_at: dict[int, list[dict]] = {}
    for match in omnimatch(piece, _EXAMPLE_WORDS):
        if match["j"] - match["i"] + 1 >= MIN_PATTERN_CHARS:
            ending_at.setdefault(match["j"], []).append(match)
    best = [0.0] * (len(piece) + 1)
    for end in range(1, len(piece) + 1):
        cheapest = best[end - 1] + bits_per_char
        for match in ending_at.get(end - 1, ()):
            cheapest = min(cheapest, best[match["i"]] + _log2(estimate_guesses(match, piece)))
        best[end] = cheapest
    return best[-1]


def _pieces(key: str) -> Iterable[str]:
    return (key[i : i + CHUNK] for i in range(0, len(key), CHUNK))


@functools.lru_cache(maxsize=16)
def estimate(key: str) -> Estimate:
    """The entropy estimate of ``key`` (see the module docstring for the method)."""
    name, size = _alphabet(key)
    per_char = math.log2(size) if key else 0.0
    capacity = len(key) * per_char
    patterns = sum(_pattern_bits(piece, per_char) for piece in _pieces(key))
    empty = len(zlib.compress(b"", 9))
    compressed = 8.0 * max(0, len(zlib.compress(key.encode("utf-8"), 9)) - empty)
    readings = {"capacity": capacity, "repetition": compressed}
    if patterns < PATTERNED_BELOW * capacity:
        readings["patterns"] = patterns
    limited_by = min(readings, key=readings.__getitem__)
    return Estimate(
        bits=readings[limited_by],
        length=len(key),
        alphabet=size,
        alphabet_name=name,
        capacity_bits=capacity,
        pattern_bits=patterns,
        compressed_bits=compressed,
        limited_by=limited_by,
    )


def estimated_entropy_bits(key: str) -> float:
    """Bits of randomness ``key`` is estimated to hold."""
    return estimate(key).bits


def _normalised(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def weakness(key: str) -> str | None:
    """Why ``key`` is not a strong secret, or None when it is. Never quotes the key."""
    if not key:
        return "CRM_SECRET_KEY is not set"
    if _normalised(key) in KNOWN_EXAMPLES:
        return "CRM_SECRET_KEY is a published example value, not a secret"
    if len(key) * math.log2(len(_PRINTABLE)) < MIN_ENTROPY_BITS:
        return (
            f"CRM_SECRET_KEY is too short ({len(key)} characters; {MIN_ENTROPY_BITS} bits need "
            "at least 43 random base64url characters or 64 hex digits)"
        )
    found = estimate(key)
    if found.bits < MIN_ENTROPY_BITS:
        return (
            f"CRM_SECRET_KEY is not random enough: about {found.bits:.0f} bits of estimated "
            f"entropy, at least {MIN_ENTROPY_BITS} bits needed; {found.why}"
        )
    return None


def resolve_secret_key(settings: Settings) -> str:
    """The key to use, or :class:`ConfigError` (production with a missing or weak key).

    The message names the problem and the command that makes a good key; it never echoes the key.
    """
    problem = weakness(settings.secret_key)
    if settings.production:
        if problem:
            raise ConfigError(
                f"{problem}. CRM_ENV=production needs a strong random key "
                f"({MIN_ENTROPY_BITS} bits or more): run\n    {MAKE_ONE}\n"
                "and set CRM_SECRET_KEY to its output (keep it out of version control)."
            )
        return settings.secret_key
    if settings.secret_key:
        return settings.secret_key
    return _development_key(settings)


def _development_key(settings: Settings) -> str:
    path = settings.secret_key_file
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key
