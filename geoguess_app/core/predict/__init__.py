"""Prediction: the pipeline in stages (decode, infer, score, describe) and its results."""
