"""Where pages and metadata come from: the source Protocol, HTTP indexes, local directories."""
