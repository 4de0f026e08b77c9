"""Storage helpers (SQLite in WAL mode, one transaction per consensus change)."""
