"""What the schedule tells the features above it, so that it never has to import them.

``session_moved`` is sent inside the transaction that gave a session a new start (a
reschedule), with ``session`` the saved row. Case notes move their destruction date with it
(:mod:`sessions_app.casenotes.retention`). Receivers are connected in ``SessionsAppConfig.ready``.
"""

from django.dispatch import Signal

session_moved = Signal()
