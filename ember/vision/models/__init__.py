"""The model zoo (torchvision's ``models``): constructors, arguments and state_dict keys match
torchvision's, so a torchvision state_dict saved with ``torch.save`` loads with
``model.load_state_dict(ember.load(path))``. ``weights`` must be None: nothing is downloaded.

Example:
    >>> from ember.vision import models
    >>> m = models.resnet18(num_classes=10)
"""

from ember.vision.models._utils import get_model, get_model_builder, list_models
from ember.vision.models.alexnet import AlexNet, alexnet
from ember.vision.models.lenet import LeNet, lenet
from ember.vision.models.mobilenetv2 import MobileNetV2, mobilenet_v2
from ember.vision.models.resnet import (BasicBlock, Bottleneck, ResNet, resnet18, resnet34,
                                        resnet50, resnet101, resnet152, resnext50_32x4d,
                                        resnext101_32x8d, wide_resnet50_2, wide_resnet101_2)
from ember.vision.models.vgg import (VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn,
                                     vgg19, vgg19_bn)
from ember.vision.models.vision_transformer import (VisionTransformer, vit_b_16, vit_b_32,
                                                    vit_h_14, vit_l_16, vit_l_32, vit_tiny)

__all__ = ["get_model", "get_model_builder", "list_models", "AlexNet", "alexnet", "LeNet",
           "lenet", "MobileNetV2", "mobilenet_v2", "BasicBlock", "Bottleneck", "ResNet",
           "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
           "resnext101_32x8d", "wide_resnet50_2", "wide_resnet101_2", "VGG", "vgg11",
           "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
           "VisionTransformer", "vit_b_16", "vit_b_32", "vit_h_14", "vit_l_16", "vit_l_32",
           "vit_tiny"]
