"""Presentation-attack detection: passive (MiniFASNet) and active (randomised challenges from landmarks)."""
