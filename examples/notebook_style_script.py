"""A script written the way tutorials and notebooks write it: no function anywhere.

The data is loaded, the model is built at module level between the data and `fit`,
and the results are plotted. NetViz draws `model` (named by its variable) and runs
only what it needs: the imports it uses and the sizes it reads. The CSV, the
training and the plot never run; `num_classes` comes from the data, so the
`# netviz: value=` comment stands in for it.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import keras
from keras import layers

df = pd.read_csv("sensor_readings.csv")
x = df.drop(columns=["label"]).to_numpy().reshape(-1, 128, 3)
y = df["label"].to_numpy()
num_classes = len(np.unique(y))  # netviz: value=6
window = 128

model = keras.Sequential(
    [
        keras.Input(shape=(window, 3)),
        layers.Conv1D(32, 7, activation="relu"),
        layers.MaxPooling1D(2),
        layers.Conv1D(64, 5, activation="relu"),
        layers.GlobalAveragePooling1D(),
        layers.Dense(64, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(num_classes, activation="softmax"),
    ],
    name="activity_classifier",
)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, epochs=20, validation_split=0.2)

plt.plot(history.history["accuracy"])
plt.savefig("accuracy.png")
