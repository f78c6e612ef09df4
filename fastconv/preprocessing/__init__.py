"""Image preprocessing: `fastconv.preprocessing.image` (ImageDataGenerator, as in
keras.preprocessing.image), the batched affine warp behind it and the augmentation
layers (fastconv.preprocessing.warp) and its NumPy reference (warp_reference)."""
