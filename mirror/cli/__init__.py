"""The `mirror` command's subcommands, one module per noun."""
