"""Built-in plugin package (wgan)."""
