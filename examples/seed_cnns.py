"""The article's three CNNs, ported to Keras 3.

Ported means: `keras.Input(...)` instead of `input_shape=`, and
`Adam(learning_rate=...)` instead of the removed `Adam(lr=...)`. The shapes stay
the article's: 128x128x1, 128x128x3 and 128x128x1 inputs, 12 classes.

Open this file with NetViz running and save it: all three diagrams appear. The
training code at the bottom never runs in NetViz; only the factories' slice does.
"""

import keras
from keras import layers

NUM_CLASSES = 12


def construct_model():
    model = keras.Sequential(name="construct_model")
    model.add(keras.Input(shape=(128, 128, 1)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D(pool_size=(2, 2)))
    model.add(layers.Dropout(0.25))
    model.add(layers.Flatten())
    model.add(layers.Dense(256, activation="relu"))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(NUM_CLASSES, activation="softmax"))
    model.compile(
        loss="categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=0.001),
        metrics=["accuracy"],
    )
    return model


def sconstruct_model():
    model = keras.Sequential(
        [
            keras.Input(shape=(128, 128, 3)),
            layers.Conv2D(8, (5, 5), activation="relu"),
            layers.BatchNormalization(),
            layers.Conv2D(16, (5, 5), activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(16, (3, 3), activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(32, (5, 5), activation="relu"),
            layers.BatchNormalization(),
            layers.Flatten(),
            layers.Dense(256, activation="relu"),
            layers.Dropout(0.3),
            layers.Dense(512, activation="relu"),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="sconstruct_model",
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def cconstruct_model(learningRate):
    model = keras.Sequential(name="cconstruct_model")
    model.add(keras.Input(shape=(128, 128, 1)))
    for filters, kernel, pool in ((32, 5, 2), (32, 3, 2), (128, 3, 2), (256, 5, 4)):
        model.add(layers.Conv2D(filters, kernel, padding="same", activation="relu"))
        model.add(layers.MaxPooling2D(pool_size=pool))
    model.add(layers.Flatten())
    model.add(layers.Dense(1024, activation="relu"))
    model.add(layers.Dense(NUM_CLASSES, activation="softmax"))
    model.compile(
        loss="categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=learningRate),
        metrics=["accuracy"],
    )
    return model


model = cconstruct_model(0.001)
model.summary()

# The article trains here. NetViz never runs these lines.
(x_train, y_train), _ = keras.datasets.mnist.load_data()
model.fit(x_train, y_train, epochs=10)
