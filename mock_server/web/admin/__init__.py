"""The admin API under ``/__mock`` (documented by ``contract/admin_openapi.yaml``): `routes`, `guard` (who may
call it) and `webhooks` (``GET /__mock/webhooks``)."""
