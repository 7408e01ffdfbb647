"""Offline speech for customers who prefer to talk and listen.

Speech recognition (ASR) engines behind one interface, end-of-speech detection, the bilingual FAQ and
intent matcher (including anti-scam guidance), and text-to-speech. Audio never leaves the device; the
microphone and speaker themselves are reached through ``hardware``.
"""
