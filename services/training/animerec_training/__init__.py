"""Training service: TensorFlow embedding models, Comet ML tracking, model versions, evaluation."""
