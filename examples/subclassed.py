"""A subclassed model: NetViz traces `call` on symbolic inputs, so its inner layers show.

A subclassed model only knows its input shape once it is built, so the factory
builds it.
"""

import keras
from keras import layers


class ResidualMLP(keras.Model):
    def __init__(self, width=64, classes=10, **kwargs):
        super().__init__(**kwargs)
        self.inner = layers.Dense(width, activation="relu")
        self.hidden = layers.Dense(width, activation="relu")
        self.add = layers.Add()
        self.head = layers.Dense(classes, activation="softmax")

    def call(self, inputs):
        x = self.inner(inputs)
        x = self.add([x, self.hidden(x)])
        return self.head(x)


def residual_mlp() -> keras.Model:
    model = ResidualMLP(width=64, classes=10)
    model(keras.Input(shape=(784,)))  # builds it, so its input shape is known
    return model
