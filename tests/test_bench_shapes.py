"""The benchmark's shapes and models describe the networks they are named after."""
import numpy as np
import pytest

from fastconv import zoo
from fastconv.benchmark import models
from fastconv.benchmark.shapes import GROUPS, NETWORKS, SHAPES, select


def test_every_shape_has_a_known_group_and_a_unique_name():
    assert {s.group for s in SHAPES} == set(GROUPS)
    assert len({s.name for s in SHAPES}) == len(SHAPES)


def test_select_by_group_and_by_name():
    networks = select(groups=[NETWORKS])
    assert networks and all(s.group == NETWORKS for s in networks)
    both = select(["pool-24"], groups=[NETWORKS])
    assert [s.name for s in both] == ["pool-24"] + [s.name for s in networks]
    assert select() == SHAPES
    assert [s.n for s in select(["vgg-c2-b128"], quick_batches=True)] == [8]


@pytest.mark.parametrize("batch", [32, 128])
def test_vgg_shapes_are_the_conv_layers_of_the_vgg_bn_model(batch):
    model = zoo.vgg_bn()
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    shapes = [s for s in SHAPES if s.name.startswith("vgg-") and s.n == batch]
    assert [(s.n,) + tuple(s.geometry().out_shape[1:]) for s in shapes] == [
        (batch,) + conv.output_shape for conv in convs]
    assert [(s.x_shape, s.w_shape) for s in shapes] == [
        ((batch,) + conv.input_shape, conv.params["kernel"].shape) for conv in convs]


def test_vgg_bn_model_spec_at_both_batches():
    specs = {s.name: s for s in models.MODELS}
    assert (specs["vgg-bn-b32"].batch_size, specs["vgg-bn-b128"].batch_size) == (32, 128)
    assert specs["vgg-bn-b32"].epoch_images(16) == 160  # 5 whole batches of 32
    assert specs["vgg-bn-b128"].epoch_images(16) == 256
    assert specs["tutorial"].epoch_images() == models.MNIST_TRAIN_IMAGES


def test_vgg_bn_trains_a_step():
    spec = next(s for s in models.MODELS if s.recipe == "vgg-bn")
    model = spec.fastconv_model()
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[[0, 1, 2, 3]]
    first = model.train_on_batch(x, y)[0]
    for _ in range(4):
        last = model.train_on_batch(x, y)[0]
    assert last < first


@pytest.mark.parametrize("spec", models.MODELS, ids=lambda s: s.name)
def test_torch_twin_has_the_same_layers_and_hyper_parameters(spec):
    torch = pytest.importorskip("torch")
    from fastconv.benchmark.torch_baseline import torch_optimizer, torch_twin
    model = spec.fastconv_model()
    twin = torch_twin(model)
    trainable = sum(p.size for layer in model.layers for p in layer.params.values())
    assert sum(p.numel() for p in twin.parameters()) == trainable
    assert tuple(twin(torch.zeros(2, 1, 28, 28)).shape) == (2, 10)
    norms = [m for m in twin if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    keras_norms = [layer for layer in model.layers
                   if type(layer).__name__ == "BatchNormalization"]
    assert [(m.eps, round(m.momentum, 12)) for m in norms] == [
        (layer.epsilon, round(1 - layer.momentum, 12)) for layer in keras_norms]
    optimizer = torch_optimizer(model.optimizer, twin.parameters())
    assert optimizer.defaults["lr"] == model.optimizer.learning_rate
    if type(model.optimizer).__name__ == "Adam":
        assert optimizer.defaults["eps"] == model.optimizer.epsilon


def test_torch_twin_refuses_layers_it_cannot_mirror():
    pytest.importorskip("torch")
    from fastconv import layers, models as fastconv_models
    from fastconv.benchmark.torch_baseline import torch_twin
    same = fastconv_models.Sequential([layers.Conv2D(4, 3, padding="same",
                                                     input_shape=(8, 8, 1))])
    with pytest.raises(ValueError, match="padding 'same'"):
        torch_twin(same)
