"""The outbox: reminders and announcements, each at most once per person (docs/reminders.md).

* ``scan`` decides what is due and writes one row per message (unique in the database);
* ``sending`` claims a row, renders it (``rendering``) and hands it to Django's email backend;
* ``forecast`` lists what the scan will queue in the next days (the Upcoming tab), with the
  scan's own rules (``scan.messages_due``) and previews rendered by ``rendering``;
* ``handlers`` turns notifications (a session moved, cancelled...) into rows at once;
* ``views`` is the coordinator's outbox page and the public unsubscribe page.
"""
