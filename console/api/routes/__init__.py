"""The API's resources under ``/api/v1``, one router per module, each tagged for the
OpenAPI document. A route reads the Deck or calls its command layer with the caller's
``Principal``; the command layer checks the role and audits (``core.guard``)."""
