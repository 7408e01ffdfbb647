"""The assembled product: the `kiosk` command with `kiosk run` (the touchscreen app over the kiosk core) and the
demo world (replay devices, a scripted customer, the reference scoring service on loopback).

It sits above everything else: it imports ``ui``, ``kiosk`` and (for the demo's local service) ``cloud``; nothing
imports it.
"""
