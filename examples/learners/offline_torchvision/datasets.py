"""`MNIST` and `FashionMNIST` as torchvision defines them (`root`, `train`, `download`,
`transform`, `target_transform`; samples are `(image, int label)`), over scikit-learn's
bundled digits: 1,797 images, the first 1,500 for training and the other 297 for testing.

Each 8x8 image (values 0..16) is scaled up three times and padded to 28x28 with values
0..255, so the tutorials' `28*28` inputs and MNIST's normalisation constants still fit.
The image a sample holds is a uint8 NumPy array, where torchvision holds a PIL image:
`transforms.ToTensor` accepts both.
"""

from functools import lru_cache

import numpy as np
from sklearn.datasets import load_digits

TRAIN_SIZE = 1500


@lru_cache(maxsize=1)
def digits_as_mnist() -> tuple[np.ndarray, np.ndarray]:
    """All digits as MNIST-like images: uint8 [1797, 28, 28], and their int64 labels."""
    digits = load_digits()
    images = np.kron(digits.images, np.ones((3, 3)))  # 8x8 -> 24x24
    images = np.pad(images, ((0, 0), (2, 2), (2, 2)))  # -> 28x28, a blank border as MNIST's
    images = np.round(images * (255 / 16)).astype(np.uint8)
    return images, digits.target.astype(np.int64)


class MNIST:
    """The digits, split as MNIST's `train=True` / `train=False` sets."""

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, download=False, transform=None, target_transform=None):
        images, targets = digits_as_mnist()
        part = slice(None, TRAIN_SIZE) if train else slice(TRAIN_SIZE, None)
        self.root, self.train = root, train
        self.data, self.targets = images[part], targets[part]
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        image, target = self.data[index], int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target


class FashionMNIST(MNIST):
    """The same digits under Fashion-MNIST's class names (the tutorials print them)."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
