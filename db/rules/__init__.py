"""Rule sets stored as versioned rows: read without SQLAlchemy, written with SQLAlchemy."""
