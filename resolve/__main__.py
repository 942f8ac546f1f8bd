"""``python -m resolve``: the same as the ``resolve`` command."""

from resolve.launch import main

main()
