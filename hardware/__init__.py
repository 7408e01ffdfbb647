"""Devices behind small interfaces: camera, microphone, speaker, receipt printer.

Each device has a real driver (OpenCV capture, sounddevice, aplay, ESC/POS) and a replay or file driver
(image/video files, WAV files, output files) so the demo and the tests run on machines without devices.
Drivers raise the typed errors in ``hardware.errors`` when a device is missing or disappears mid-stream;
the journey turns those into a clear screen instead of a crash.
"""
