"""Resolution policy: pre-release modes and the preferences an existing lock gives."""
