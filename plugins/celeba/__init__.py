"""Built-in plugin package (celeba)."""
