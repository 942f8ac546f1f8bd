"""The Simple Repository API as data: pure parsers of PEP 503/691 pages and filenames (no I/O)."""
