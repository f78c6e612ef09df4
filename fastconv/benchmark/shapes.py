"""The shapes the kernel benchmark measures: the layers of the small CNNs fastconv targets.

Layouts as everywhere in fastconv: x (N, [D,] H, W, C), w ([KD,] KH, KW, C, K). Each
shape has a short name for `bench/run.py --shapes NAME...` and belongs to one group of
GROUPS, for `bench/run.py --groups GROUP...`.
"""
import math
from dataclasses import dataclass, replace
from typing import Optional

from fastconv._geometry import CONV_GEOMETRIES, Conv2DTransposeGeometry, Pool2DGeometry

# --quick divides every batch by this (at least 1 image is kept): small enough that the
# whole run takes seconds, large enough that a call still does real work.
QUICK_BATCH_DIVISOR = 16

# The groups of shapes: the tutorial CNNs' and ImageNet ResNet's layers fastconv was first
# tuned on, the rest of the convolution family, pooling, and the layers of the networks
# users train (the deeper MNIST CNN, ResNet-18 on CIFAR, a pointwise layer) at batch 32
# and 128.
CLASSIC, FAMILY, POOLING, NETWORKS = "classic", "family", "pool", "networks"
GROUPS = (CLASSIC, FAMILY, POOLING, NETWORKS)
# The batch sizes the networks' layers are measured at: small batches leave the kernels
# little work per call, which is where per-call overheads and thin GEMMs show.
NETWORK_BATCHES = (32, 128)


@dataclass(frozen=True)
class ConvShape:
    """One convolution layer: x (n, [d,] h, w, c) with a [kd×]kh×kw kernel to k channels.

    d given: a 3-D convolution (kd deep). dilation, groups (groups == c: depthwise).
    transposed: a 2-D transposed convolution from c to k channels, w (kh, kw, k, c) as
    Keras's Conv2DTranspose; padding is then the conv2d's it transposes."""
    name: str
    n: int
    h: int
    w: int
    c: int
    k: int
    kh: int
    kw: int
    strides: int = 1
    padding: int = 0
    dilation: int = 1
    groups: int = 1
    d: Optional[int] = None
    kd: int = 1
    transposed: bool = False
    group: str = CLASSIC

    @property
    def rank(self):
        return 2 if self.d is None else 3

    @property
    def x_shape(self):
        depth = () if self.d is None else (self.d,)
        return (self.n,) + depth + (self.h, self.w, self.c)

    @property
    def window(self):
        return ((self.kd,) if self.rank == 3 else ()) + (self.kh, self.kw)

    @property
    def w_shape(self):
        if self.transposed:
            return (self.kh, self.kw, self.k, self.c)
        return self.window + (self.c // self.groups, self.k)

    def geometry(self):
        """The validated geometry (Conv2DTransposeGeometry for a transposed shape)."""
        if self.transposed:
            return Conv2DTransposeGeometry(self.x_shape, self.w_shape, self.strides,
                                           self.padding, None, self.dilation)
        return CONV_GEOMETRIES[self.rank](self.x_shape, self.w_shape, self.strides,
                                          self.padding, self.dilation, self.groups)

    def flops(self):
        """FLOPs of one pass (forward, backward-input and backward-weight cost the same):
        two (a multiply and an add) per tap per output element and input channel of its
        group; for a transposed convolution, per tap per input element and output channel."""
        g = self.geometry()
        if self.transposed:
            return 2 * math.prod(self.x_shape) * self.kh * self.kw * self.k
        return 2 * math.prod(g.out_shape) * math.prod(self.window) * (self.c // self.groups)

    @property
    def label(self):
        depth = "" if self.d is None else f"{self.d}×"
        window = "×".join(map(str, self.window))
        extra = (f" /{self.strides}" if self.strides != 1 else "") + \
                (f" pad {self.padding}" if self.padding else "") + \
                (f" dil {self.dilation}" if self.dilation != 1 else "") + \
                (" depthwise" if self.groups == self.c > 1 else
                 f" groups {self.groups}" if self.groups != 1 else "") + \
                (" transposed" if self.transposed else "")
        return f"{self.n}×{depth}{self.h}×{self.w}×{self.c}→{self.k} {window}{extra}"


@dataclass(frozen=True)
class PoolShape:
    """One max-pooling layer on x (n, h, w, c), window pool×pool, strides = pool."""
    name: str
    n: int
    h: int
    w: int
    c: int
    pool: int = 2
    group: str = POOLING

    @property
    def x_shape(self):
        return (self.n, self.h, self.w, self.c)

    def geometry(self):
        return Pool2DGeometry(self.x_shape, self.pool, None, "valid", "max")

    @property
    def label(self):
        return f"{self.pool}×{self.pool} max pool {self.n}×{self.h}×{self.w}×{self.c}"


def _at_network_batches(name, size=3, **layer):
    """One ConvShape (a size×size kernel) of the NETWORKS group per batch of
    NETWORK_BATCHES, named name-bN."""
    return [ConvShape(f"{name}-b{n}", n=n, kh=size, kw=size, group=NETWORKS, **layer)
            for n in NETWORK_BATCHES]


# The deeper MNIST CNN (the model benchmark's `vgg-bn`), valid padding throughout:
# 28 -conv-> 26 -conv-> 24 -pool-> 12 -conv-> 10 -conv-> 8 -pool-> 4 -conv-> 2.
VGG_BN_LAYERS = [
    ("vgg-c1", dict(h=28, w=28, c=1, k=64)),
    ("vgg-c2", dict(h=26, w=26, c=64, k=64)),
    ("vgg-c3", dict(h=12, w=12, c=64, k=128)),
    ("vgg-c4", dict(h=10, w=10, c=128, k=128)),
    ("vgg-c5", dict(h=4, w=4, c=128, k=256)),
]
# ResNet-18 for CIFAR-10 (32×32 inputs, 3×3 stem): the stem, a layer1 conv, layer2's
# strided first conv and its 1×1 strided shortcut, a layer2 conv.
RESNET18_CIFAR_LAYERS = [
    ("resnet18-stem", dict(h=32, w=32, c=3, k=64, padding=1)),
    ("resnet18-c64", dict(h=32, w=32, c=64, k=64, padding=1)),
    ("resnet18-down", dict(h=32, w=32, c=64, k=128, strides=2, padding=1)),
    ("resnet18-shortcut", dict(h=32, w=32, c=64, k=128, size=1, strides=2)),
    ("resnet18-c128", dict(h=16, w=16, c=128, k=128, padding=1)),
]

SHAPES = [
    ConvShape("mnist-c1-3x3", n=128, h=28, w=28, c=1, k=32, kh=3, kw=3),
    ConvShape("mnist-c1-5x5", n=128, h=28, w=28, c=1, k=32, kh=5, kw=5),
    ConvShape("mnist-c2-5x5", n=128, h=12, w=12, c=32, k=64, kh=5, kw=5),
    ConvShape("resnet-3x3", n=32, h=56, w=56, c=64, k=64, kh=3, kw=3, padding=1),
    ConvShape("resnet-stem-7x7", n=32, h=224, w=224, c=3, k=64, kh=7, kw=7,
              strides=2, padding=3),
    # The rest of the convolution family: MobileNet's depthwise layers, a dilated layer,
    # a small decoder's transposed layer, the CT-scan model's 3-D layers.
    ConvShape("depthwise-56", n=32, h=56, w=56, c=64, k=64, kh=3, kw=3, padding=1,
              groups=64, group=FAMILY),
    ConvShape("depthwise-28", n=32, h=28, w=28, c=128, k=128, kh=3, kw=3, padding=1,
              groups=128, group=FAMILY),
    ConvShape("dilated-3x3", n=32, h=32, w=32, c=64, k=64, kh=3, kw=3, padding=2,
              dilation=2, group=FAMILY),
    ConvShape("transposed-4x4", n=32, h=14, w=14, c=64, k=32, kh=4, kw=4, strides=2,
              padding=1, transposed=True, group=FAMILY),
    ConvShape("ct3d-c1", n=2, d=64, h=64, w=32, c=1, k=64, kd=3, kh=3, kw=3, group=FAMILY),
    ConvShape("ct3d-c2", n=2, d=31, h=31, w=15, c=64, k=64, kd=3, kh=3, kw=3, group=FAMILY),
    PoolShape("pool-24", n=128, h=24, w=24, c=32),
    PoolShape("pool-56", n=64, h=56, w=56, c=64),
    *(shape for name, layer in VGG_BN_LAYERS + RESNET18_CIFAR_LAYERS
      for shape in _at_network_batches(name, **layer)),
    *_at_network_batches("pointwise-1x1", h=28, w=28, c=64, k=128, size=1),
]

SHAPE_NAMES = [s.name for s in SHAPES]


def quick(shape):
    """The same layer with a batch QUICK_BATCH_DIVISOR times smaller."""
    return replace(shape, n=max(1, shape.n // QUICK_BATCH_DIVISOR))


def select(names=None, quick_batches=False, groups=None):
    """The shapes called `names` or in `groups` (all when both are None), in SHAPES
    order, optionally quick."""
    if names is None and groups is None:
        chosen = SHAPES
    else:
        chosen = [s for s in SHAPES if s.name in (names or ()) or s.group in (groups or ())]
    return [quick(s) for s in chosen] if quick_batches else chosen
