"""NASNetLarge from keras.applications (1,041 layers), built without weights."""

import keras


def nasnet_large():
    return keras.applications.NASNetLarge(weights=None)
