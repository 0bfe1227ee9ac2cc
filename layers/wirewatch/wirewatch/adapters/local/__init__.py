"""Local adapters: the SQLite store, SMTP / outbox email, local secrets and the runner (one machine)."""
