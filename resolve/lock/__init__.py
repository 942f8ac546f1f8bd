"""Locks: the writers (requirements.txt, pylock.toml, JSON) and the one reader of them."""
