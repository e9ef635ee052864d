"""Recommender service: serves every recommendation function over HTTP (numpy only, no TensorFlow)."""
