"""The run directory: its layout, its format version, durable writes and the lock."""
