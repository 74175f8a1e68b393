"""Built-in datasets: the embedded synthetic faces and CelebA."""

import ckgan


@ckgan.hookimpl
def register_datasets(register):
    pass
