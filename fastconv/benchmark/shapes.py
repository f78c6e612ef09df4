"""The shapes the kernel benchmark measures: the layers of the small CNNs fastconv targets.

Layouts as everywhere in fastconv: x (N, H, W, C), w (KH, KW, C, K). Each shape has a
short name for `bench/run.py --shapes NAME...`.
"""
from dataclasses import dataclass, replace

from fastconv._geometry import Conv2DGeometry, Pool2DGeometry

# --quick divides every batch by this (at least 1 image is kept): small enough that the
# whole run takes seconds, large enough that a call still does real work.
QUICK_BATCH_DIVISOR = 16


@dataclass(frozen=True)
class ConvShape:
    """One conv2d layer: x (n, h, w, c) with a kh×kw kernel to k channels."""
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

    @property
    def x_shape(self):
        return (self.n, self.h, self.w, self.c)

    @property
    def w_shape(self):
        return (self.kh, self.kw, self.c, self.k)

    def geometry(self):
        return Conv2DGeometry(self.x_shape, self.w_shape, self.strides, self.padding)

    def flops(self):
        """FLOPs of one pass (forward, backward-input and backward-weight cost the same):
        2·N·OH·OW·KH·KW·C·K, one multiply and one add per tap."""
        g = self.geometry()
        return 2 * self.n * g.oh * g.ow * self.kh * self.kw * self.c * self.k

    @property
    def label(self):
        extra = (f" /{self.strides}" if self.strides != 1 else "") + \
                (f" pad {self.padding}" if self.padding else "")
        return (f"{self.n}×{self.h}×{self.w}×{self.c}→{self.k} "
                f"{self.kh}×{self.kw}{extra}")


@dataclass(frozen=True)
class PoolShape:
    """One max-pooling layer on x (n, h, w, c), window pool×pool, strides = pool."""
    name: str
    n: int
    h: int
    w: int
    c: int
    pool: int = 2

    @property
    def x_shape(self):
        return (self.n, self.h, self.w, self.c)

    def geometry(self):
        return Pool2DGeometry(self.x_shape, self.pool, None, "valid", "max")

    @property
    def label(self):
        return f"{self.pool}×{self.pool} max pool {self.n}×{self.h}×{self.w}×{self.c}"


SHAPES = [
    ConvShape("mnist-c1-3x3", n=128, h=28, w=28, c=1, k=32, kh=3, kw=3),
    ConvShape("mnist-c1-5x5", n=128, h=28, w=28, c=1, k=32, kh=5, kw=5),
    ConvShape("mnist-c2-5x5", n=128, h=12, w=12, c=32, k=64, kh=5, kw=5),
    ConvShape("resnet-3x3", n=32, h=56, w=56, c=64, k=64, kh=3, kw=3, padding=1),
    ConvShape("resnet-stem-7x7", n=32, h=224, w=224, c=3, k=64, kh=7, kw=7,
              strides=2, padding=3),
    PoolShape("pool-24", n=128, h=24, w=24, c=32),
    PoolShape("pool-56", n=64, h=56, w=56, c=64),
]

SHAPE_NAMES = [s.name for s in SHAPES]


def quick(shape):
    """The same layer with a batch QUICK_BATCH_DIVISOR times smaller."""
    return replace(shape, n=max(1, shape.n // QUICK_BATCH_DIVISOR))


def select(names=None, quick_batches=False):
    """The shapes called `names` (all when None), in SHAPES order, optionally quick."""
    chosen = [s for s in SHAPES if names is None or s.name in names]
    return [quick(s) for s in chosen] if quick_batches else chosen
