"""The API's resources under ``/api/v1``, one router a module, each tagged for OpenAPI."""
