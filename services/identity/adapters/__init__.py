"""Adapters of the identity service's ports (domain/ports.py) to the outside over HTTP:
realname.py (name + ID number check) and sms_gateway.py (one-time codes by SMS).
docs/identity-adapters.md describes their settings and request formats."""
