"""Plain Keras 3 / TensorFlow parts of ganflow: networks, losses, the train step and its state.

Nothing here imports Prefect or touches folders, so every piece can be tested on arrays.
"""
