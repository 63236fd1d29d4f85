"""The outbox: reminders and announcements, each at most once per person (docs/reminders.md).

* ``scan`` decides what is due and writes one row per message (unique in the database);
* ``sending`` claims a row, renders it (``rendering``) and hands it to Django's email backend;
* ``handlers`` turns notifications (a session moved, cancelled...) into rows at once;
* ``views`` is the coordinator's outbox page and the public unsubscribe page.
"""
