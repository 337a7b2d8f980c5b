"""Persistence for jobs, integration state, API keys and the audit trail (a leaf: imports only config)."""
