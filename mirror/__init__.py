"""sneakernet: mirror."""
