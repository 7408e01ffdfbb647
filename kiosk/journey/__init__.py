"""The customer journey as a pure, synchronous state machine.

``Journey.handle(event)`` takes one event (a touch, a capture result, a clock tick) and returns the new
state plus the effects the runner must carry out (start a capture, request a score, wipe biometrics).
No I/O, no threads, no Kivy: the same machine drives the headless demo, the Kivy app and the tests.
"""

from kiosk.journey.effects import Effect
from kiosk.journey.events import Event
from kiosk.journey.machine import Journey, JourneyLimits, Transition
from kiosk.journey.session import BiometricSample, BiometricVault, SessionData
from kiosk.journey.states import State

__all__ = [
    "BiometricSample",
    "BiometricVault",
    "Effect",
    "Event",
    "Journey",
    "JourneyLimits",
    "SessionData",
    "State",
    "Transition",
]
