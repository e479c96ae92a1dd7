"""Stands in for the parts of torchvision the learner programs use, without downloads.

`datasets.MNIST` and `datasets.FashionMNIST` serve scikit-learn's bundled 8x8 digits, scaled
up to MNIST's 28x28 uint8 images; `transforms` has `ToTensor`, `Normalize` and `Compose`.
Everything tensor-valued goes through `torch`, so under `nablax.stateful` it is nablax's.
"""
