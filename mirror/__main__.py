"""`python -m mirror` runs the `mirror` command."""

from mirror.launch import main

main()
