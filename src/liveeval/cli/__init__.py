"""The `liveeval` command."""
