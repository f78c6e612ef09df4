"""Image preprocessing: the batched affine warp behind the augmentation layers
(fastconv.preprocessing.warp) and its NumPy reference (warp_reference)."""
