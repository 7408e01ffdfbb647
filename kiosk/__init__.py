"""Application core of the credit kiosk.

Everything that decides what the kiosk does lives here: the typed configuration, the customer journey
state machine (``kiosk.journey``), the runner that executes the journey's effects against hardware and
the vision/voice/cloud stages, structured redacted logging, the self-test, and the ``kiosk`` command line.
Nothing in this package imports Kivy; the UI in ``ui/`` only renders journey state and forwards events.
"""

__version__ = "0.1.0"
