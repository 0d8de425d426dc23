"""Tests of the HTTP readiness probes against a real uvicorn server."""
