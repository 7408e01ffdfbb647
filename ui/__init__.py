"""The touchscreen application (Kivy).

Screens, widgets and translation files for the customer journey and the admin/self-test screens. The UI
holds no business logic: it renders the state published by ``kiosk.journey`` and forwards touches, voice
and camera events back to it, so the journey stays testable without a display.
"""
