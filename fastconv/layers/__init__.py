"""Keras-style layers, channels-last, backed by the fastconv kernels.

    from fastconv import layers
    layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1))

Convolution and pooling call fastconv.ops; everything else is vectorised NumPy.
"""
from fastconv.layers.base import Layer
from fastconv.layers.conv import Conv1D, Conv2D, Conv3D
from fastconv.layers.depthwise import DepthwiseConv2D, SeparableConv2D
from fastconv.layers.transpose import Conv2DTranspose
from fastconv.layers.core import Activation, Dense, Dropout, Flatten, ReLU, Reshape, Softmax
from fastconv.layers.input import Input, InputLayer
from fastconv.layers.merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply,
                                     Subtract, add, average, concatenate, dot, maximum,
                                     minimum, multiply, subtract)
from fastconv.layers.normalization import BatchNormalization
from fastconv.layers.pooling import (AveragePooling1D, AveragePooling2D,
                                     GlobalAveragePooling1D, GlobalAveragePooling2D,
                                     GlobalAveragePooling3D, GlobalMaxPooling1D,
                                     GlobalMaxPooling2D, GlobalMaxPooling3D, MaxPooling1D,
                                     MaxPooling2D, MinPooling2D, MaxPooling3D, AveragePooling3D)
from fastconv.layers.reshaping import (Cropping1D, Cropping2D, Cropping3D, UpSampling1D,
                                       UpSampling2D, UpSampling3D, ZeroPadding1D,
                                       ZeroPadding2D, ZeroPadding3D)
from fastconv.layers.image_preprocessing import CenterCrop, Rescaling, Resizing
from fastconv.layers.augmentation import (RandomBrightness, RandomContrast, RandomCrop,
                                          RandomFlip, RandomRotation, RandomTranslation,
                                          RandomZoom)
from fastconv.layers.serialization import deserialize, serialize

# Keras's short aliases.
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
SeparableConvolution2D = SeparableConv2D
Convolution2DTranspose = Conv2DTranspose
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D

__all__ = ["Rescaling", "Resizing", "CenterCrop", "RandomCrop", "RandomFlip", "RandomRotation",
           "RandomTranslation", "RandomZoom", "RandomContrast", "RandomBrightness", "Layer", "Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D",
           "Convolution3D", "DepthwiseConv2D",
           "SeparableConv2D", "SeparableConvolution2D", "Conv2DTranspose",
           "Convolution2DTranspose", "Dense", "Flatten",
           "Reshape", "Dropout", "Activation", "ReLU", "Softmax", "Input", "InputLayer",
           "BatchNormalization", "MaxPooling1D", "MaxPooling2D", "MinPooling2D",
           "AveragePooling1D", "AveragePooling2D", "MaxPool1D", "MaxPool2D", "AvgPool1D",
           "AvgPool2D", "MaxPooling3D", "AveragePooling3D", "MaxPool3D", "AvgPool3D",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D",
           "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling3D",
           "GlobalMaxPooling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
           "Cropping1D", "Cropping2D", "Cropping3D", "UpSampling1D", "UpSampling2D",
           "UpSampling3D", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
           "Concatenate", "Dot", "add", "subtract", "multiply", "average", "maximum",
           "minimum", "concatenate", "dot", "serialize", "deserialize"]
