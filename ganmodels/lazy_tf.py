"""`tf` for modules that must import without TensorFlow (the loss registry, listed by the CLI): the real
module (through ganmodels/tf.py, which silences TF's start-up noise) is imported at first use."""


class _LazyTensorFlow:
    def __getattr__(self, name: str):
        from ganmodels.tf import tf as real

        return getattr(real, name)


tf = _LazyTensorFlow()
