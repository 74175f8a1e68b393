"""ckgan's built-in causal graph files (installed as ``ckgan_graphs``): one graph a file."""
