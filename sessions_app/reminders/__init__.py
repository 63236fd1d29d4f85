"""Reminders and announcements of a program's schedule: the outbox kinds sessions_app owns
(docs/reminders.md), and the coordinator's outbox and reminder settings pages.

* ``kinds``: the codes of the kinds; ``registration``: what each kind does, registered with the
  core's outbox (``ccdg.outbox.kinds``) in ``SessionsAppConfig.ready``;
* ``due``: which reminders the schedule calls for (asked by the core's due-scan);
* ``rendering``: what a message about a session says, and its ``.ics``;
* ``recipients``: who receives what;
* ``handlers``: notifications (a session moved, cancelled...) that become messages at once;
* ``forecast``: what the outbox will send in the next days (the Upcoming tab);
* ``views``/``urls``: the coordinator's outbox page and the public unsubscribe pages.
"""
