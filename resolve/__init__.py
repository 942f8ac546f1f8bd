"""sneakernet: resolve."""
