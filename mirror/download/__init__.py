"""``mirror download``: the files a lock names, fetched and verified into one directory."""
