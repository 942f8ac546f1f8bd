"""Storing rule changes: loading, committing and importing rule sets in one transaction."""
