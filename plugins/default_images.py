"""Built-in image stages."""

import ckgan


@ckgan.hookimpl
def register_image_stages(register):
    pass
