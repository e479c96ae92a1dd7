"""PyTorch Tutorials, Learn the Basics > Save and Load the Model.
https://docs.pytorch.org/tutorials/beginner/basics/saveloadrun_tutorial.html

Changed: `torchvision.models.vgg16(weights='IMAGENET1K_V1')` downloads 528 MB; a small VGG,
written as torchvision writes VGG (`make_layers` from a config, its initialisation), stands in,
with its seeded initial weights as the "pretrained" ones. The page's outputs are printed.
"""

import torch
import torch.nn as nn


class VGG(nn.Module):
    def __init__(self, features, num_classes=10, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(16 * 7 * 7, 64),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(64, 64),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(64, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x


def make_layers(cfg, batch_norm=False):
    layers = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


def small_vgg():
    return VGG(make_layers([8, "M", 16, "M"]))


model = small_vgg()
torch.save(model.state_dict(), 'model_weights.pth')

model = small_vgg()  # we do not specify ``weights``, i.e. create untrained model
model.load_state_dict(torch.load('model_weights.pth', weights_only=True))
print(model.eval())

torch.save(model, 'model.pth')

model = torch.load('model.pth', weights_only=False)
print(model)
