"""A small U-Net: a functional model with skip connections, built through a helper.

Each Conv2D records two lines: where `conv_block` made it, and where `unet` called
`conv_block`. Hover either line to see the layers.
"""

import keras
from keras import layers


def conv_block(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    return x


def unet(input_size=(128, 128, 1), base=16, depth=3):
    inputs = keras.Input(input_size, name="image")
    skips = []
    x = inputs
    for level in range(depth):
        x = conv_block(x, base * 2**level)
        skips.append(x)
        x = layers.MaxPooling2D(2)(x)
    x = conv_block(x, base * 2**depth)
    for level in reversed(range(depth)):
        x = layers.Conv2DTranspose(base * 2**level, 2, strides=2, padding="same")(x)
        x = layers.Concatenate()([x, skips[level]])
        x = conv_block(x, base * 2**level)
    outputs = layers.Conv2D(1, 1, activation="sigmoid", name="mask")(x)
    return keras.Model(inputs, outputs, name="unet")
