"""Model zoo: torchvision's parameter counts, keys, constructor arguments, and (with PyTorch)
outputs equal to reference architectures given the same weights, also through a .pth file."""

import numpy as np
import pytest

import ember
from ember.vision import models

try:
    import torch

    import vision_torch_ref as ref
except ImportError:  # the oracle is optional
    torch = ref = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (oracle) not installed")

# torchvision's documented parameter counts (num_params in its weights metadata).
TORCHVISION_PARAMS = {
    "resnet18": 11689512, "resnet34": 21797672, "mobilenet_v2": 3504872,
}
TORCHVISION_PARAMS_SLOW = {
    "resnet50": 25557032, "resnet101": 44549160, "alexnet": 61100840, "vit_b_16": 86567656,
    "vgg11": 132863336, "vgg11_bn": 132868840, "vgg16": 138357544, "vgg16_bn": 138365992,
}


def n_params(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_param_count_matches_torchvision(name):
    assert n_params(models.get_model(name)) == TORCHVISION_PARAMS[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS_SLOW))
def test_param_count_matches_torchvision_large(name):
    assert n_params(models.get_model(name)) == TORCHVISION_PARAMS_SLOW[name]


def test_known_torchvision_keys():
    sd = models.resnet18().state_dict()
    for key in ["conv1.weight", "bn1.running_mean", "bn1.num_batches_tracked",
                "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
                "layer2.0.downsample.1.running_var", "layer4.1.bn2.bias", "fc.weight", "fc.bias"]:
        assert key in sd
    mb = models.mobilenet_v2().state_dict()
    assert {"features.0.0.weight", "features.0.1.running_mean", "features.1.conv.0.0.weight",
            "features.1.conv.1.weight", "features.2.conv.3.running_var", "features.18.0.weight",
            "classifier.1.weight"} <= set(mb)
    vit = models.VisionTransformer(16, 8, 1, 2, 8, 16).state_dict()
    assert {"class_token", "conv_proj.weight", "encoder.pos_embedding",
            "encoder.layers.encoder_layer_0.ln_1.weight",
            "encoder.layers.encoder_layer_0.self_attention.in_proj_weight",
            "encoder.layers.encoder_layer_0.self_attention.out_proj.bias",
            "encoder.layers.encoder_layer_0.mlp.0.weight",
            "encoder.layers.encoder_layer_0.mlp.3.bias", "encoder.ln.weight",
            "heads.head.weight"} <= set(vit)
    assert len(vit) == 20
    assert list(models.lenet().state_dict()) == [
        f"{m}.{p}" for m in ("conv1", "conv2", "fc1", "fc2", "fc3") for p in ("weight", "bias")]


def test_weights_other_than_none_raise():
    with pytest.raises(RuntimeError, match="cannot download pretrained weights"):
        models.resnet18(weights="IMAGENET1K_V1")
    with pytest.raises(RuntimeError, match="weights=None"):
        models.mobilenet_v2(pretrained=True)
    assert isinstance(models.resnet18(pretrained=False, num_classes=3), models.ResNet)


def test_registry_and_constructor_arguments():
    assert {"lenet", "alexnet", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn", "resnet18",
            "resnet34", "resnet50", "resnet101", "mobilenet_v2", "vit_tiny"} <= set(
        models.list_models())
    with pytest.raises(ValueError, match="Unknown model"):
        models.get_model("resnet9000")
    m = models.resnet18(num_classes=7, zero_init_residual=True)
    assert m.fc.out_features == 7
    assert float(m.layer1[0].bn2.weight.abs().sum()) == 0.0
    assert models.mobilenet_v2(width_mult=0.5).features[0][0].out_channels == 16
    assert models.vit_tiny(image_size=32, patch_size=8).encoder.pos_embedding.shape == (1, 17,
                                                                                          192)
    with pytest.raises(ValueError, match="indivisible"):
        models.VisionTransformer(30, 8, 1, 1, 8, 8)


def test_forward_shapes_and_backward():
    ember.manual_seed(0)
    x = ember.randn(2, 3, 32, 32)
    for m in (models.resnet18(num_classes=5), models.mobilenet_v2(num_classes=5),
              models.VisionTransformer(32, 8, 1, 2, 16, 32, num_classes=5)):
        out = m(x)
        assert out.shape == (2, 5)
        out.sum().backward()
        grads = [p.grad for p in m.parameters()]
        assert all(g is not None for g in grads)
        assert np.isfinite(sum(float(g.abs().sum()) for g in grads))
    assert models.lenet(input_size=28)(ember.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_vit_rejects_wrong_image_size():
    with pytest.raises(RuntimeError, match="expected 16x16"):
        models.VisionTransformer(16, 8, 1, 2, 8, 16)(ember.zeros(1, 3, 8, 8))


# ------------------------------------------------------------------------------------------
# Against PyTorch reference architectures with copied weights.


def _randomise_bn_stats(tmodel):
    g = torch.Generator().manual_seed(1)
    for mod in tmodel.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.copy_(torch.randn(mod.num_features, generator=g) * 0.1)
            mod.running_var.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
            mod.weight.data.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
            mod.bias.data.copy_(torch.randn(mod.num_features, generator=g) * 0.1)


def _to_ember(sd):
    return {k: ember.from_numpy(v.detach().numpy().copy()) for k, v in sd.items()}


def _compare(em, tm, shape, atol=1e-4, train=False):
    torch.manual_seed(0)
    with torch.no_grad():
        _randomise_bn_stats(tm)
    if train:  # BN over a few values per channel amplifies rounding: compare in float64
        tm.double()
        em.double()
    tsd = tm.state_dict()
    assert list(em.state_dict()) == list(tsd)  # same keys in the same order
    em.load_state_dict(_to_ember(tsd))
    em.train(train)
    tm.train(train)
    if train:  # dropout would differ: only BN-in-train-mode models are compared in train mode
        for mod in list(em.modules()) + list(tm.modules()):
            if type(mod).__name__.startswith("Dropout"):
                mod.eval()
    x = np.random.default_rng(0).standard_normal(shape).astype(
        np.float64 if train else np.float32)
    with torch.no_grad():
        expected = tm(torch.from_numpy(x)).numpy()
    got = em(ember.from_numpy(x)).detach().numpy()
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=atol * scale)
    return x, expected


@needs_torch
@pytest.mark.parametrize("train", [False, True])
def test_resnet18_matches_reference(train):
    _compare(models.resnet18(num_classes=10), ref.ResNet([2, 2, 2, 2], False, 10),
             (2, 3, 32, 32), train=train)


@needs_torch
def test_mobilenet_v2_matches_reference():
    _compare(models.mobilenet_v2(num_classes=10), ref.MobileNetV2(10), (2, 3, 32, 32))


@needs_torch
def test_vit_small_matches_reference():
    em = models.VisionTransformer(32, 8, 2, 3, 48, 96, num_classes=10)
    _compare(em, ref.ViT(32, 8, 2, 3, 48, 96, 10), (2, 3, 32, 32))


@needs_torch
def test_lenet_matches_reference():
    _compare(models.lenet(input_size=28), ref.lenet(input_size=28), (4, 1, 28, 28))


@needs_torch
def test_pth_file_from_torch_save_loads(tmp_path):
    tm = ref.ResNet([2, 2, 2, 2], False, 10)
    em = models.resnet18(num_classes=10)
    x, expected = _compare(em, tm, (1, 3, 32, 32))
    path = tmp_path / "resnet18.pth"
    torch.save(tm.state_dict(), path)
    fresh = models.resnet18(num_classes=10)
    fresh.load_state_dict(ember.load(str(path)))
    fresh.eval()
    np.testing.assert_allclose(fresh(ember.from_numpy(x)).detach().numpy(), expected,
                               rtol=1e-4, atol=1e-4)


@needs_torch
def test_vit_legacy_mlp_keys_load():
    tm = ref.ViT(16, 8, 1, 2, 8, 16, 3)
    legacy = {k.replace("mlp.0.", "mlp.linear_1.").replace("mlp.3.", "mlp.linear_2."): v
              for k, v in tm.state_dict().items()}
    em = models.VisionTransformer(16, 8, 1, 2, 8, 16, num_classes=3)
    em.load_state_dict(_to_ember(legacy))
    w = em.encoder.layers.encoder_layer_0.mlp[3].weight.detach().numpy()
    np.testing.assert_array_equal(w, tm.encoder.layers.encoder_layer_0.mlp[3].weight.detach())


@needs_torch
@pytest.mark.slow
@pytest.mark.parametrize("name,depth", [("resnet34", [3, 4, 6, 3]), ("resnet50", [3, 4, 6, 3]),
                                        ("resnet101", [3, 4, 23, 3])])
def test_deep_resnets_match_reference(name, depth):
    _compare(models.get_model(name, num_classes=10),
             ref.ResNet(depth, name != "resnet34", 10), (1, 3, 32, 32))


@needs_torch
@pytest.mark.slow
@pytest.mark.parametrize("name", ["alexnet", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn"])
def test_alexnet_vgg_match_reference(name):
    tm = ref.alexnet(10) if name == "alexnet" else ref.vgg(int(name[3:5]), name.endswith("bn"),
                                                           10)
    _compare(models.get_model(name, num_classes=10), tm, (1, 3, 64, 64))
