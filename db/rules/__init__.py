"""Rule sets stored as versioned rows: read with stdlib ``sqlite3``, written with SQLAlchemy."""
