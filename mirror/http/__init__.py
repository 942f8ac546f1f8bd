"""HTTP for ``mirror``: one aiohttp client, its responses and errors, credentials, byte ranges."""
