"""The outbox engine: messages, each at most once per person (docs/reminders.md).

The engine knows no kind of message: the apps register theirs (``kinds``) in their
``AppConfig.ready()`` (sessions_app's reminders in ``sessions_app.reminders``, the surveys'
invitations in ``surveys.outbox_kinds``).

* ``kinds`` is the registry: what each kind does (finds what is due, builds its context...);
* ``scan`` asks every kind what is due and writes one row per message (unique in the
  database), and enqueues the rows' send tasks;
* ``sending`` claims a batch of rows with a lease, renders them (``rendering``) and sends them
  over one SMTP connection, with retries;
* ``services`` is what the coordinator does with the outbox (pause, resend) and a person's
  opt-out.
"""
