"""Stands in for the `d2l` package (Dive into Deep Learning) without downloads or plots.

As in the book, programs write `from offline_d2l import torch as d2l`. `offline_d2l.torch`
holds the book's saved functions that the chapters here call, as the book writes them, with
two changes: Fashion-MNIST is served by `offline_torchvision` (scikit-learn's digits), read
without worker processes, and `Animator` prints each point where the book plots it.
"""
