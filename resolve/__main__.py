"""``python -m resolve``: the same as the ``resolve`` command."""

from resolve.cli import main

main()
