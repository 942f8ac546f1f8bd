"""`python -m mirror` runs the `mirror` command."""

from resolve.interrupts import handling_interrupts

# Ctrl-C while the command loads (a fifth of a second) ends it as it would once loaded.
with handling_interrupts():
    from mirror.cli.main import main

    main()
