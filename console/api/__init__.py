"""The control API: REST and WebSocket over ASGI (FastAPI), served by uvicorn on the Deck's
own event loop, on the monitoring port (``--http-port``).

One more front end beside the console, the CLI and SSH: it calls the same command layer
with the same roles, and never imports Textual. ``app.create_app`` builds the
application from an ``ApiContext``; ``server.ApiServer`` binds and serves it as one of
the Deck's services.
"""
