"""Browser tests: a real Chromium, driven by Playwright, against the live test server."""
