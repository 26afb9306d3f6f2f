"""Reference architectures written directly in torch.nn (torchvision does not import beside
this torch), following torchvision's documented module layout and state_dict keys. Used only
as an oracle by test_vision_models.py."""

from collections import OrderedDict
from functools import partial

import torch
from torch import nn


def lenet(num_classes=10, in_channels=1, input_size=32):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            side = ((input_size - 4) // 2 - 4) // 2
            self.conv1, self.conv2 = nn.Conv2d(in_channels, 6, 5), nn.Conv2d(6, 16, 5)
            self.fc1, self.fc2 = nn.Linear(16 * side * side, 120), nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, num_classes)

        def forward(self, x):
            x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
            x = torch.max_pool2d(torch.relu(self.conv2(x)), 2).flatten(1)
            return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))
    return Net()


class _Classify(nn.Module):
    """features -> avgpool -> flatten -> classifier (AlexNet and VGG)."""

    def __init__(self, features, pool, classifier):
        super().__init__()
        self.features, self.avgpool, self.classifier = features, nn.AdaptiveAvgPool2d(pool), \
            classifier

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def alexnet(num_classes=1000):
    f = nn.Sequential(nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2),
                      nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
                      nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
                      nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
                      nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2))
    c = nn.Sequential(nn.Dropout(), nn.Linear(9216, 4096), nn.ReLU(), nn.Dropout(),
                      nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, num_classes))
    return _Classify(f, (6, 6), c)


def vgg(depth, bn, num_classes=1000):
    per_stage = {11: [1, 1, 2, 2, 2], 16: [2, 2, 3, 3, 3]}[depth]
    layers, cin = [], 3
    for width, n in zip([64, 128, 256, 512, 512], per_stage):
        for _ in range(n):
            layers += [nn.Conv2d(cin, width, 3, padding=1)] + ([nn.BatchNorm2d(width)] if bn
                                                               else []) + [nn.ReLU()]
            cin = width
        layers.append(nn.MaxPool2d(2, 2))
    c = nn.Sequential(nn.Linear(25088, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 4096),
                      nn.ReLU(), nn.Dropout(), nn.Linear(4096, num_classes))
    return _Classify(nn.Sequential(*layers), (7, 7), c)


class _Block(nn.Module):
    def __init__(self, cin, planes, stride, bottleneck):
        super().__init__()
        cout = planes * (4 if bottleneck else 1)
        if bottleneck:
            self.conv1, self.bn1 = nn.Conv2d(cin, planes, 1, bias=False), nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv3, self.bn3 = nn.Conv2d(planes, cout, 1, bias=False), nn.BatchNorm2d(cout)
        else:
            self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2, self.bn2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False), \
                nn.BatchNorm2d(planes)
        self.bottleneck = bottleneck
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        if self.bottleneck:
            y = self.bn3(self.conv3(torch.relu(y)))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    def __init__(self, layers, bottleneck, num_classes=1000):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64)
        cin = 64
        for i, (planes, n) in enumerate(zip([64, 128, 256, 512], layers)):
            blocks = []
            for j in range(n):
                blocks.append(_Block(cin, planes, 2 if (i > 0 and j == 0) else 1, bottleneck))
                cin = planes * (4 if bottleneck else 1)
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(x.mean((2, 3)))


def _cbr(cin, cout, k=3, stride=1, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups,
                                   bias=False), nn.BatchNorm2d(cout), nn.ReLU6())


class _InvRes(nn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hid = cin * t
        layers = ([_cbr(cin, hid, 1)] if t != 1 else []) + [
            _cbr(hid, hid, 3, stride, hid), nn.Conv2d(hid, cout, 1, bias=False),
            nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)
        self.res = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.conv(x) if self.res else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        feats, cin = [_cbr(3, 32, 3, 2)], 32
        for t, c, n, s in [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2],
                           [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]:
            for i in range(n):
                feats.append(_InvRes(cin, c, s if i == 0 else 1, t))
                cin = c
        feats.append(_cbr(cin, 1280, 1))
        self.features = nn.Sequential(*feats)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x).mean((2, 3)))


class _EncBlock(nn.Module):
    def __init__(self, heads, dim, mlp):
        super().__init__()
        ln = partial(nn.LayerNorm, eps=1e-6)
        self.ln_1 = ln(dim)
        self.self_attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ln_2 = ln(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Dropout(0.0),
                                 nn.Linear(mlp, dim), nn.Dropout(0.0))

    def forward(self, x):
        h = self.ln_1(x)
        x = x + self.self_attention(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class ViT(nn.Module):
    def __init__(self, image_size, patch, layers, heads, dim, mlp, num_classes=1000):
        super().__init__()
        self.conv_proj = nn.Conv2d(3, dim, patch, patch)
        self.class_token = nn.Parameter(torch.randn(1, 1, dim))
        enc = nn.Module()
        enc.pos_embedding = nn.Parameter(torch.randn(1, (image_size // patch) ** 2 + 1, dim))
        enc.layers = nn.Sequential(OrderedDict((f"encoder_layer_{i}", _EncBlock(heads, dim, mlp))
                                               for i in range(layers)))
        enc.ln = nn.LayerNorm(dim, eps=1e-6)
        self.encoder = enc
        self.heads = nn.Sequential(OrderedDict(head=nn.Linear(dim, num_classes)))

    def forward(self, x):
        x = self.conv_proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], 1)
        x = x + self.encoder.pos_embedding
        x = self.encoder.ln(self.encoder.layers(x))
        return self.heads(x[:, 0])
