"""A typical training script. NetViz runs only the slice that `mnist_mlp` needs.

The download, the training and the plotting below never run when NetViz builds
this file: top-level calls are never part of the slice, and neither is the
`__main__` block.
"""

import keras
from keras import layers

HIDDEN = 256
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()  # stood in: nothing downloads


def mnist_mlp(hidden=HIDDEN):
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            layers.Flatten(),
            layers.Dense(hidden, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ],
        name="mnist_mlp",
    )


model = mnist_mlp()
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=5)
raise SystemExit("training finished")  # NetViz never gets here either

if __name__ == "__main__":
    model.save("mnist.keras")
