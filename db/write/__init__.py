"""Writing snapshots: the building snapshot, batched row inserts, completion."""
