"""sneakernet: db."""
