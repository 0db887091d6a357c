"""keras.applications models, built shape-only with `weights=None` (nothing is downloaded)."""

import keras


def resnet50():
    return keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3), classes=1000)


def efficientnet_b0():
    return keras.applications.EfficientNetB0(weights=None)


def mobilenet_head():
    base = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(160, 160, 3))
    x = keras.layers.GlobalAveragePooling2D()(base.output)
    outputs = keras.layers.Dense(5, activation="softmax")(x)
    return keras.Model(base.input, outputs, name="flowers")
