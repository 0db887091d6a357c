"""Nested models: a Sequential block reused twice, inside a functional model.

The block's weights are shared, so its parameters count once. Turn on
`netviz.render.expandNested` (or `netviz render --expand-nested`) to draw it as a
cluster.
"""

import keras
from keras import layers


def feature_block():
    return keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.GlobalAveragePooling2D(),
        ],
        name="shared_features",
    )


def siamese():
    left = keras.Input(shape=(32, 32, 3), name="left")
    right = keras.Input(shape=(32, 32, 3), name="right")
    block = feature_block()
    distance = layers.Subtract()([block(left), block(right)])
    score = layers.Dense(1, activation="sigmoid", name="same")(distance)
    return keras.Model([left, right], score, name="siamese")
