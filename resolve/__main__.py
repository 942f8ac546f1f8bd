"""``python -m resolve``: the same as the ``resolve`` command."""

from resolve.interrupts import handling_interrupts

# Ctrl-C while the command loads (a fifth of a second) ends it as it would once loaded.
with handling_interrupts():
    from resolve.cli import main

    main()
