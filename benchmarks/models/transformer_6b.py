"""A 32-block decoder-only transformer with d_model 4096: about 6.7 billion parameters.

Building it with real weights needs about 27 GB; NetViz builds it shape-only.
"""

import keras
from keras import layers

VOCAB = 32000
SEQ = 2048
D_MODEL = 4096
HEADS = 32
FFN = 4 * D_MODEL
BLOCKS = 32


def transformer_block(x, index):
    attn_in = layers.LayerNormalization(epsilon=1e-5, name=f"block{index}_ln1")(x)
    attn = layers.MultiHeadAttention(HEADS, D_MODEL // HEADS, name=f"block{index}_attention")(
        attn_in, attn_in, use_causal_mask=True)
    x = layers.Add(name=f"block{index}_residual1")([x, attn])
    ffn_in = layers.LayerNormalization(epsilon=1e-5, name=f"block{index}_ln2")(x)
    h = layers.Dense(FFN, activation="gelu", name=f"block{index}_ffn_up")(ffn_in)
    h = layers.Dense(D_MODEL, name=f"block{index}_ffn_down")(h)
    return layers.Add(name=f"block{index}_residual2")([x, h])


def transformer_6b():
    tokens = keras.Input(shape=(SEQ,), dtype="int32", name="tokens")
    x = layers.Embedding(VOCAB, D_MODEL, name="embedding")(tokens)
    for index in range(BLOCKS):
        x = transformer_block(x, index)
    x = layers.LayerNormalization(epsilon=1e-5, name="final_ln")(x)
    logits = layers.Dense(VOCAB, name="lm_head")(x)
    return keras.Model(tokens, logits, name="transformer_6b")
