"""The pretrained models the kiosk runs, and the guarantees around them.

A manifest (``models.toml``) names every model file with its sha256, size, license and input spec; the
verifier checks files against it before anything loads them, and the installer copies a model bundle
(a USB stick, ``../shared/models``) into the kiosk's models directory, verifying as it goes. A missing
or corrupt model is always a clear error naming the file and expected hash, never a silent fallback.
"""
