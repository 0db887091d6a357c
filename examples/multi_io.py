"""A ticket classifier with three inputs and two outputs (after the Keras functional API guide)."""

import keras
from keras import layers

NUM_WORDS = 10000
NUM_TAGS = 12
NUM_DEPARTMENTS = 4


def ticket_classifier():
    title = keras.Input(shape=(None,), name="title")
    body = keras.Input(shape=(None,), name="body")
    tags = keras.Input(shape=(NUM_TAGS,), name="tags")

    title_features = layers.Embedding(NUM_WORDS, 64)(title)
    body_features = layers.Embedding(NUM_WORDS, 64)(body)
    title_features = layers.LSTM(128)(title_features)
    body_features = layers.LSTM(32)(body_features)

    x = layers.concatenate([title_features, body_features, tags])
    priority = layers.Dense(1, activation="sigmoid", name="priority")(x)
    department = layers.Dense(NUM_DEPARTMENTS, activation="softmax", name="department")(x)
    return keras.Model(inputs=[title, body, tags], outputs=[priority, department])
