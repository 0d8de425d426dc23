"""Remote operations over SSH: every session is a console of its own on the one Deck.

``server`` (listening, authentication, lockout, audit), ``session`` (one app per
SSH session), ``driver`` (Textual drawn on an SSH channel), ``users`` (the users
file, shared with the API, and its API keys in ``api_keys``) and ``host_key``; the
lockout rules are ``console.lockout``, shared with the API. Nothing is imported here, so
that ``quarterdeck users`` does not load Textual.
"""
