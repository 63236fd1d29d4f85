"""Signing in: django-allauth's accounts, second factors, single sign-on and sessions, with
the app's rules around them (docs/sign-in.md).

* :mod:`.limits`: who is counted for the lockouts and throttles;
* :mod:`.adapter`: no sign-up page, the audit trail of refusals, the client address;
* :mod:`.reset`: password-reset requests answered at once and sent by the worker;
* :mod:`.middleware`: throttled requests go into the audit trail;
* :mod:`.signals`: sign-ins, sign-outs, lockouts and second-factor changes are audited.
"""
