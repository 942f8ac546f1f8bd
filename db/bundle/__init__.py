"""Snapshots as rows in a bundle: export by table, check and merge on import."""
