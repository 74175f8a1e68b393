"""ckgan's built-in plugins (installed as ``ckgan_plugins``).

Each ``default_*`` module registers built-ins through the same hooks a
third-party plugin uses; none of them imports another.
"""
