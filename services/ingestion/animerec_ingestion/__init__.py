"""Ingestion service: raw Kaggle MyAnimeList files in, validated raw and processed datasets out."""

__version__ = "0.1.0"
