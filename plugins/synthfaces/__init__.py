"""Built-in plugin package (synthfaces)."""
