"""Keras's ImageDataGenerator: real-time augmentation of NumPy image batches, and the
featurewise/samplewise normalisation, for `model.fit(datagen.flow(x, y), ...)`.

Each batch draws its images' random parameters in NumPy, warps the whole batch with one
call of the compiled affine warp (fastconv.preprocessing.image_transforms), then
standardizes it. Differences from Keras, on purpose:
- width_shift_range shifts along the width and height_shift_range along the height, as
  Keras documents (Keras 3 swaps them: keras-team/tf-keras#310);
- images are channels-last only; interpolation_order is 0 or 1 (nearest, bilinear);
- brightness_range, save_to_dir and flow_from_directory/dataframe are not supported.
"""
import numbers
import warnings

import numpy as np

from fastconv import backend
from fastconv.preprocessing import image_arguments as args
from fastconv.preprocessing.image_transforms import IDENTITY, apply_transforms
from fastconv.preprocessing.warp_options import FILL_MODES, option_code

__all__ = ["ImageDataGenerator"]

# Keras's fuzz factor in standardize and fit (a literal 1e-6 there, not epsilon()).
_STD_EPSILON = 1e-6
_EXPECTED_CHANNELS = (1, 3, 4)


def _not_fitted_warning(option):
    warnings.warn(f"This ImageDataGenerator specifies `{option}`, but it hasn't been fit "
                  f"on any training data. Fit it first by calling `.fit(numpy_data)`.",
                  UserWarning, stacklevel=3)


def warn_if_not_images(x):
    """Keras's warning for arrays whose last axis does not look like channels."""
    if x.shape[-1] not in _EXPECTED_CHANNELS:
        warnings.warn(f"Expected images with 1, 3 or 4 channels on axis {x.ndim - 1} "
                      f"(channels_last); got an array of shape {x.shape} "
                      f"({x.shape[-1]} channels)", UserWarning, stacklevel=3)


def _shifts(rng, shift_range, n, size):
    """Keras's shift draws: whole pixels in (-k, k) for an int k, a choice with a random
    sign for a list, uniform in (-r, r) for a float; times the size when all are < 1."""
    if isinstance(shift_range, numbers.Integral) or isinstance(shift_range, np.ndarray):
        choices = np.arange(shift_range) if isinstance(shift_range, numbers.Integral) \
            else shift_range
        shifts = rng.choice(choices, n) * rng.choice([-1, 1], n)
    else:
        shifts = rng.uniform(-shift_range, shift_range, n)
    if np.max(shift_range) < 1:
        shifts = shifts * size
    return shifts.astype(np.float64)


def _legacy_generator(seed):
    """RandomState(seed), or without a seed NumPy's global generator (np.random's
    functions), which Keras uses, so that np.random.seed(...) repeats the draws."""
    return np.random if seed is None else np.random.RandomState(args.check_seed(seed))


class ImageDataGenerator:
    """Generate batches of image data with real-time augmentation (Keras's arguments).

    rotation_range: degrees, drawn in (-r, r). width_shift_range / height_shift_range:
    a float (a fraction of the width/height if < 1, else pixels), an int (whole pixels
    in (-k, k)) or a list to choose from. shear_range: degrees. zoom_range: a float z
    ([1 - z, 1 + z]) or [lower, upper], one factor per axis. channel_shift_range: added
    to all channels, clipped to the image's range. horizontal_flip / vertical_flip: each
    with probability 1/2. fill_mode: "nearest" (default), "constant" (cval), "reflect"
    or "wrap". rescale: multiplies the images after the transformation.
    preprocessing_function: called on each image (rank 3) after the augmentation.
    featurewise_center / featurewise_std_normalization: per-channel mean and std from
    `fit(x)`; samplewise_*: per image. zca_whitening with zca_epsilon, from `fit(x)`.
    validation_split: the fraction `flow(..., subset="validation")` takes.
    """

    def __init__(self, featurewise_center=False, samplewise_center=False,
                 featurewise_std_normalization=False, samplewise_std_normalization=False,
                 zca_whitening=False, zca_epsilon=1e-6, rotation_range=0,
                 width_shift_range=0.0, height_shift_range=0.0, brightness_range=None,
                 shear_range=0.0, zoom_range=0.0, channel_shift_range=0.0,
                 fill_mode="nearest", cval=0.0, horizontal_flip=False, vertical_flip=False,
                 rescale=None, preprocessing_function=None, data_format=None,
                 validation_split=0.0, interpolation_order=1, dtype=None):
        data_format = backend.image_data_format() if data_format is None else data_format
        if data_format != "channels_last":
            raise ValueError(f"data_format must be 'channels_last' (images (N, H, W, C)); "
                             f"fastconv's ImageDataGenerator does not support "
                             f"{data_format!r}")
        if brightness_range is not None:
            raise TypeError("brightness_range is not supported by fastconv's "
                            "ImageDataGenerator (use layers.RandomBrightness in the model)")
        self.data_format = data_format
        self.channel_axis, self.row_axis, self.col_axis = 3, 1, 2
        self.dtype = args.check_dtype(backend.floatx() if dtype is None else dtype)
        self.rotation_range = args.check_range("rotation_range", rotation_range)
        self.width_shift_range = args.check_shift_range("width_shift_range",
                                                        width_shift_range)
        self.height_shift_range = args.check_shift_range("height_shift_range",
                                                         height_shift_range)
        self.shear_range = args.check_range("shear_range", shear_range)
        self.zoom_range = args.check_zoom_range(zoom_range)
        self.channel_shift_range = args.check_range("channel_shift_range",
                                                    channel_shift_range)
        option_code("fill_mode", fill_mode, FILL_MODES)
        self.fill_mode = fill_mode
        if isinstance(cval, bool) or not isinstance(cval, numbers.Real):
            raise TypeError(f"cval must be a number, got {cval!r}")
        self.cval = float(cval)
        self.interpolation_order = interpolation_order
        self.interpolation = args.check_interpolation_order(interpolation_order)
        self.horizontal_flip, self.vertical_flip = bool(horizontal_flip), bool(vertical_flip)
        if rescale is not None and (isinstance(rescale, bool)
                                    or not isinstance(rescale, numbers.Real)):
            raise TypeError(f"rescale must be a number or None, got {rescale!r}")
        self.rescale = rescale
        if preprocessing_function is not None and not callable(preprocessing_function):
            raise TypeError(f"preprocessing_function must be callable or None, got "
                            f"{type(preprocessing_function).__name__}")
        self.preprocessing_function = preprocessing_function
        self._validation_split = args.check_validation_split(validation_split)
        self.zca_epsilon = args.check_range("zca_epsilon", zca_epsilon)
        self.featurewise_center = bool(featurewise_center)
        self.featurewise_std_normalization = bool(featurewise_std_normalization)
        self.samplewise_center = bool(samplewise_center)
        self.samplewise_std_normalization = bool(samplewise_std_normalization)
        self.zca_whitening = bool(zca_whitening)
        self._implied_options()
        self.mean = self.std = self.zca_whitening_matrix = None

    def _implied_options(self):
        """Keras's rules: std normalisation implies centring; ZCA implies featurewise
        centring and replaces the featurewise std normalisation (each with a warning)."""
        implied = []
        if self.zca_whitening and not self.featurewise_center:
            implied.append(("zca_whitening", "featurewise_center"))
            self.featurewise_center = True
        if self.zca_whitening and self.featurewise_std_normalization:
            implied.append(("zca_whitening", "featurewise_std_normalization"))
            self.featurewise_std_normalization = False
        if self.featurewise_std_normalization and not self.featurewise_center:
            implied.append(("featurewise_std_normalization", "featurewise_center"))
            self.featurewise_center = True
        if self.samplewise_std_normalization and not self.samplewise_center:
            implied.append(("samplewise_std_normalization", "samplewise_center"))
            self.samplewise_center = True
        for option, overridden in implied:
            warnings.warn(f"This ImageDataGenerator specifies `{option}`, which overrides "
                          f"setting of `{overridden}`.", UserWarning, stacklevel=3)

    # -- random transformations ------------------------------------------------------
    def random_parameters(self, rng, n, img_shape):
        """The parameters of n random transformations (a dict of arrays, the keys of
        get_random_transform) for images of shape img_shape, drawn from rng (a
        np.random.RandomState) in Keras's order."""
        h, w = img_shape[0], img_shape[1]
        zeros = np.zeros(n)
        params = {"theta": (rng.uniform(-self.rotation_range, self.rotation_range, n)
                            if self.rotation_range else zeros)}
        params["ty"] = (_shifts(rng, self.height_shift_range, n, h)
                        if np.any(self.height_shift_range) else zeros)
        params["tx"] = (_shifts(rng, self.width_shift_range, n, w)
                        if np.any(self.width_shift_range) else zeros)
        params["shear"] = (rng.uniform(-self.shear_range, self.shear_range, n)
                           if self.shear_range else zeros)
        if self.zoom_range == [1.0, 1.0]:
            params["zx"] = params["zy"] = np.ones(n)
        else:
            zooms = rng.uniform(self.zoom_range[0], self.zoom_range[1], (n, 2))
            params["zx"], params["zy"] = zooms[:, 0], zooms[:, 1]
        params["flip_horizontal"] = (rng.random_sample(n) < 0.5) & self.horizontal_flip
        params["flip_vertical"] = (rng.random_sample(n) < 0.5) & self.vertical_flip
        params["channel_shift_intensity"] = (
            rng.uniform(-self.channel_shift_range, self.channel_shift_range, n)
            if self.channel_shift_range else None)
        return params

    def get_random_transform(self, img_shape, seed=None):
        """Random parameters for one image of shape img_shape (H, W, C), as a dict of
        numbers (Keras's keys); seed makes them repeatable."""
        params = self.random_parameters(_legacy_generator(seed), 1, img_shape)
        return {key: None if value is None else value[0].item()
                for key, value in params.items()}

    def transform_batch(self, x, params):
        """The batch x (N, H, W, C) transformed by params (a dict of arrays of N
        entries), with one call of the warp kernel."""
        return apply_transforms(x, params, self.interpolation, self.fill_mode, self.cval)

    def apply_transform(self, x, transform_parameters):
        """One image x (H, W, C) transformed by the given parameters (a dict with any
        of Keras's keys; missing keys leave that part unchanged)."""
        x = self._image(x, "x")
        unknown = sorted(set(transform_parameters) - set(IDENTITY) - {"brightness"})
        if unknown:
            raise ValueError(f"transform_parameters has unknown keys {unknown}; known: "
                             f"{sorted(IDENTITY)}")
        if transform_parameters.get("brightness") is not None:
            raise TypeError("brightness is not supported by fastconv's ImageDataGenerator")
        params = {key: None if transform_parameters.get(key, default) is None
                  else np.asarray([transform_parameters.get(key, default)])
                  for key, default in IDENTITY.items()}
        return self.transform_batch(x[None], params)[0]

    def random_transform(self, x, seed=None):
        """One image x (H, W, C) randomly transformed; seed makes it repeatable."""
        x = self._image(x, "x")
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    def _image(self, x, name):
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 3:
            raise ValueError(f"{name} must be one image of shape (H, W, C), got shape "
                             f"{x.shape}")
        return x

    # -- normalisation -----------------------------------------------------------------
    def standardize(self, x):
        """The normalisation of this generator applied to x, one image (H, W, C) or a
        batch (N, H, W, C): preprocessing_function (per image), rescale, samplewise
        (per image) then featurewise centring and scaling, ZCA whitening. Returns a new
        array of the generator's dtype."""
        x = np.array(x, dtype=self.dtype)
        if x.ndim not in (3, 4):
            raise ValueError(f"x must be an image (H, W, C) or a batch (N, H, W, C), got "
                             f"shape {x.shape}")
        single = x.ndim == 3
        x = x[None] if single else x
        if self.preprocessing_function is not None:
            x = self._preprocess(x)
        if self.rescale:
            x *= self.dtype.type(self.rescale)
        image_axes = (1, 2, 3)
        if self.samplewise_center:
            x -= x.mean(axis=image_axes, keepdims=True)
        if self.samplewise_std_normalization:
            x /= x.std(axis=image_axes, keepdims=True) + _STD_EPSILON
        if self.featurewise_center:
            if self.mean is None:
                _not_fitted_warning("featurewise_center")
            else:
                x -= self.mean
        if self.featurewise_std_normalization:
            if self.std is None:
                _not_fitted_warning("featurewise_std_normalization")
            else:
                x /= self.std + _STD_EPSILON
        if self.zca_whitening:
            if self.zca_whitening_matrix is None:
                _not_fitted_warning("zca_whitening")
            else:
                x = (x.reshape(len(x), -1) @ self.zca_whitening_matrix).reshape(x.shape)
        return x[0] if single else x

    def _preprocess(self, x):
        """preprocessing_function on each image (Keras's contract: one rank-3 image in,
        one of the same shape out)."""
        out = np.empty_like(x)
        for i, image in enumerate(x):
            result = np.asarray(self.preprocessing_function(image))
            if result.shape != image.shape:
                raise ValueError(f"preprocessing_function must return an image of the "
                                 f"shape it was given, {image.shape}; got {result.shape}")
            out[i] = result
        return out

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Compute the featurewise statistics (mean, std, ZCA matrix) from the images x
        (N, H, W, C), after rescale, and, with augment=True, over `rounds` randomly
        transformed copies of them."""
        x = np.array(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"Input to `.fit()` should have rank 4 (N, H, W, C). Got "
                             f"array with shape: {x.shape}")
        if len(x) == 0:
            raise ValueError("Input to `.fit()` has no images")
        warn_if_not_images(x)
        if isinstance(rounds, bool) or not isinstance(rounds, numbers.Integral) or rounds < 1:
            raise ValueError(f"rounds must be a positive int, got {rounds!r}")
        if self.rescale:
            x *= self.dtype.type(self.rescale)
        if augment:
            rng = _legacy_generator(seed)
            x = np.concatenate([self.transform_batch(x, self.random_parameters(
                rng, len(x), x.shape[1:])) for _ in range(rounds)])
        if self.featurewise_center:
            self.mean = x.mean(axis=(0, 1, 2)).reshape(1, 1, -1)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = x.std(axis=(0, 1, 2)).reshape(1, 1, -1)
            x /= self.std + _STD_EPSILON
        if self.zca_whitening:
            flat = x.reshape(len(x), -1)
            u, s, _ = np.linalg.svd(flat.T, full_matrices=False)
            s_inv = np.sqrt(len(x)) / (s + self.zca_epsilon)
            self.zca_whitening_matrix = (u * s_inv) @ u.T

    # -- iterators -----------------------------------------------------------------------
    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None,
             save_to_dir=None, save_prefix="", save_format="png", ignore_class_split=False,
             subset=None):
        """A NumpyArrayIterator over (x, y[, sample_weight]) yielding augmented,
        standardized batches forever (len(): batches per epoch); for model.fit."""
        from fastconv.preprocessing.image_iterator import NumpyArrayIterator
        if save_to_dir is not None:
            raise TypeError("save_to_dir is not supported by fastconv's ImageDataGenerator")
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle,
                                  sample_weight=sample_weight, seed=seed,
                                  ignore_class_split=ignore_class_split, subset=subset)
