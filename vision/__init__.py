"""On-device computer vision for identity verification.

Face detection, landmark alignment, face embeddings, 1:1 matching against the ID-document portrait,
image-quality gates and presentation-attack (liveness) checks live here. Models are loaded only through
``edge_models`` so that every network is hash-verified before use. Images and embeddings produced here are
biometric data: they stay in memory for one session and never reach logs or the cloud.
"""
