"""Built-in plugin package (causalgan): the CausalGAN image stage.

A DCGAN with a Labeler and an Anti-Labeler (Kocaoglu et al. 2018).
"""
