"""Settings of the page benchmark's server (bench/pages.py): the site's own settings, with the
benchmark's URLs (the site's, plus the bare view) in front."""

from ccdg.settings import *  # noqa: F403

ROOT_URLCONF = "bench.pages_urls"
