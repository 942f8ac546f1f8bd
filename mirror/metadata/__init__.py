"""Core metadata: parse and check it, read it out of wheels and sdists, and the fetch strategy."""
