"""Who must use a second factor, and the sessions that end when someone's roles change
(docs/sign-in.md). The sign-in pages themselves are django-allauth's, set up in ``ccdg``."""
