"""The client address in the audit trail comes from the connection, or from the proxies the
operator trusts: never from what a client writes in X-Forwarded-For.

Each request here downloads a direct export, which records ``export.download`` with the
address (docs/operations.md, "Behind a reverse proxy").
"""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from ccdg.models import AuditEvent
from tests.ccdg.test_settings import load_settings, values

FORGED = "198.51.100.66"  # what the client claims to be
CLIENT = "203.0.113.7"  # where the client really connects from
PROXY = "10.0.0.2"  # the reverse proxy nearest the app
OUTER_PROXY = "10.0.0.5"  # a load balancer in front of that proxy


@pytest.fixture
def behind_https_proxy(settings):
    # What CCDG_HTTPS=1 CCDG_BEHIND_PROXY=1 sets: the app trusts the proxy's X-Forwarded-Proto.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings


def recorded_ip(client, program, **headers) -> str | None:
    url = reverse("reports:download_now", kwargs={"slug": program.slug, "key": "ce_hours"})
    response = client.get(url, HTTP_X_FORWARDED_PROTO="https", **headers)
    assert response.status_code == 200
    return AuditEvent.objects.filter(action="export.download").latest("pk").ip_address


def test_a_forged_forwarded_for_from_a_direct_client_is_not_recorded(
    coordinator_client, program, behind_https_proxy
):
    behind_https_proxy.TRUSTED_PROXY_COUNT = 0

    ip = recorded_ip(coordinator_client, program, REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR=FORGED)

    assert ip == CLIENT


def test_with_one_trusted_proxy_the_address_it_appended_is_recorded(
    coordinator_client, program, behind_https_proxy
):
    behind_https_proxy.TRUSTED_PROXY_COUNT = 1

    # The client sent "X-Forwarded-For: FORGED"; the proxy appended the address it saw.
    ip = recorded_ip(
        coordinator_client,
        program,
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"{FORGED}, {CLIENT}",
    )

    assert ip == CLIENT


def test_with_two_trusted_proxies_the_hop_before_them_is_recorded(
    coordinator_client, program, behind_https_proxy
):
    behind_https_proxy.TRUSTED_PROXY_COUNT = 2

    # The load balancer appended the client; the proxy appended the load balancer.
    ip = recorded_ip(
        coordinator_client,
        program,
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"{FORGED}, {CLIENT}, {OUTER_PROXY}",
    )

    assert ip == CLIENT


def test_a_forwarded_for_that_is_not_an_address_does_not_shift_the_trusted_hop(
    coordinator_client, program, behind_https_proxy
):
    behind_https_proxy.TRUSTED_PROXY_COUNT = 1

    ip = recorded_ip(
        coordinator_client,
        program,
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"not-an-address, {FORGED}:80, {CLIENT}",
    )

    assert ip == CLIENT


@pytest.mark.parametrize("client_address", ["10.20.30.40", "2001:db8::7"])
def test_an_intranet_or_ipv6_client_behind_the_proxy_is_recorded_as_it_is(
    coordinator_client, program, behind_https_proxy, client_address
):
    behind_https_proxy.TRUSTED_PROXY_COUNT = 1

    ip = recorded_ip(
        coordinator_client,
        program,
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"{FORGED}, {client_address}",
    )

    assert ip == client_address


def test_without_a_forwarded_for_the_connection_address_is_recorded(
    coordinator_client, program, behind_https_proxy
):
    behind_https_proxy.TRUSTED_PROXY_COUNT = 1

    assert recorded_ip(coordinator_client, program, REMOTE_ADDR=PROXY) == PROXY


def test_a_client_that_bypasses_the_trusted_proxies_is_recorded_at_its_own_address(
    coordinator_client, program, behind_https_proxy
):
    behind_https_proxy.TRUSTED_PROXY_COUNT = 1
    behind_https_proxy.TRUSTED_PROXIES = ["10.0.0.0/24"]

    direct = recorded_ip(
        coordinator_client, program, REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR=FORGED
    )
    proxied = recorded_ip(
        coordinator_client,
        program,
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"{FORGED}, {CLIENT}",
    )

    assert (direct, proxied) == (CLIENT, CLIENT)


def test_a_failed_sign_in_is_logged_at_the_trusted_address(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 1

    client.post(
        reverse("account_login"),
        {"login": "nobody", "password": "wrong password"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"{FORGED}, {CLIENT}",
    )

    assert list(AccessAttempt.objects.values_list("username", "ip_address")) == [("nobody", CLIENT)]


def test_the_trusted_proxies_come_from_the_environment(tmp_path):
    result = load_settings(
        tmp_path,
        ["TRUSTED_PROXY_COUNT", "TRUSTED_PROXIES"],
        CCDG_TRUSTED_PROXY_COUNT="2",
        CCDG_TRUSTED_PROXIES="10.0.0.2,fd00::/8",
    )

    assert values(result) == {"TRUSTED_PROXY_COUNT": 2, "TRUSTED_PROXIES": ["10.0.0.2", "fd00::/8"]}


def test_a_trusted_proxy_that_is_not_an_address_is_refused_at_start(tmp_path):
    result = load_settings(
        tmp_path, ["TRUSTED_PROXIES"], CCDG_TRUSTED_PROXY_COUNT="1", CCDG_TRUSTED_PROXIES="proxy"
    )

    assert result.returncode != 0
    assert "CCDG_TRUSTED_PROXIES: 'proxy' is not an IP address or network" in result.stderr
