"""`python -m mirror` runs the `mirror` command."""

from mirror.cli.main import main

main()
