"""`ToTensor`, `Normalize` and `Compose` as torchvision defines them, for uint8 NumPy images."""

import numpy as np
import torch


class ToTensor:
    """An HxW or HxWxC uint8 image as a float tensor [C, H, W] with values in [0, 1]."""

    def __call__(self, picture):
        picture = np.asarray(picture)
        if picture.ndim == 2:
            picture = picture[:, :, None]
        return torch.tensor(picture.transpose((2, 0, 1)), dtype=torch.get_default_dtype()) / 255

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """(image - mean) / std, channel by channel."""

    def __init__(self, mean, std):
        self.mean, self.std = mean, std

    def __call__(self, image):
        mean = torch.tensor(self.mean, dtype=image.dtype).view(-1, 1, 1)
        std = torch.tensor(self.std, dtype=image.dtype).view(-1, 1, 1)
        return (image - mean) / std

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class Compose:
    """The transforms, applied in order."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, image):
        for transform in self.transforms:
            image = transform(image)
        return image
