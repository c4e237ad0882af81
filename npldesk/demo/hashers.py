"""The demo's password hasher, chosen through settings for the demo's own run only.

``npldesk demo`` creates about a hundred people in one run; at Django's full PBKDF2 count their
passwords take a minute to hash. The command sets ``NPLDESK_DEMO_FAST_HASHING=1`` for its own
process before Django reads its settings, and ``npldesk.settings`` then puts this hasher first.
No other process lists it: the server, the API and every other command hash with Django's
defaults, which read the rounds recorded in each hash, accept these and re-hash them at the full
count the first time the person signs in.
"""

from __future__ import annotations

from django.contrib.auth.hashers import PBKDF2PasswordHasher

# The environment variable that makes the settings list this hasher first.
FAST_HASHING_SWITCH = "NPLDESK_DEMO_FAST_HASHING"


class DemoPasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2-SHA256 at fewer rounds, for the demo's generated passwords only."""

    iterations = 10_000
