"""One file a schema version, oldest first (``down_revision`` links them)."""
