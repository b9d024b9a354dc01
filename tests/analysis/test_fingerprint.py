"""Message templates: what varies is replaced, what names the problem stays."""

from __future__ import annotations

import pytest

from runbook.analysis.fingerprint import (CappedCounter, FingerprintTable, normalize_message,
                                          normalize_url)


@pytest.mark.parametrize("message,template", [
    ("connect() to 10.0.0.7:8080 failed (111: Connection refused)",
     "connect() to <ip> failed (<n>: Connection refused)"),
    ("session 3f2b8c1e-9a4d-4c6b-8e2f-1a2b3c4d5e6f expired", "session <uuid> expired"),
    ("segfault at 0x7f3a2c0012ab ip 00007f3a2c0012ab", "segfault at <hex> ip <hex>"),
    ('relation "orderz" does not exist', 'relation "<q>" does not exist'),
    ("Access denied for user 'shop'@'localhost'", "Access denied for user '<q>'@'<q>'"),
    ("open() /var/www/shop/img/123.png failed", "open() <path> failed"),
    ("mail to bob@example.com bounced", "mail to <email> bounced"),
    ("client [2001:db8::1] sent too large body", "client [<ip>] sent too large body"),
    ("job finished at 2024-01-02T03:04:05.123Z in 42 ms", "job finished at <ts> in <n> ms"),
    ("dump completed at 261125  9:04:36", "dump completed at <n> <time>"),
    ("AH01114: HTTP: failed", "AH01114: HTTP: failed"),  # error codes name the problem
    ("worker  3   exited\twith  code 9", "worker <n> exited with code <n>"),
])
def test_normalize_message(message, template):
    assert normalize_message(message) == template


@pytest.mark.parametrize("target,template", [
    ("/api/orders/1001?x=1", "/api/orders/<n>"),
    ("/api/users/77/cart", "/api/users/<n>/cart"),
    ("/files/3f2b8c1e-9a4d-4c6b-8e2f-1a2b3c4d5e6f", "/files/<uuid>"),
    ("/img/p/deadbeef1234.jpg", "/img/p/deadbeef<n>.jpg"),
    ("/static/app.js", "/static/app.js"),
])
def test_normalize_url(target, template):
    assert normalize_url(target) == template


def test_capped_counter_keeps_heavy_hitters_and_says_what_it_dropped():
    counter = CappedCounter(cap=10)
    for i in range(1000):
        counter.add("noise-%d" % i)
        counter.add("hot")
    assert len(counter.counts) <= 20
    assert counter.top(1) == [("hot", 1000)]
    assert counter.evicted + sum(counter.counts.values()) == 2000


def test_fingerprint_table_is_bounded_and_deterministic():
    def fill() -> FingerprintTable:
        table = FingerprintTable(cap=50)
        for i in range(5000):
            table.add("rare %d" % i, 6, float(i), "x")
            table.add("frequent", 3, float(i), "y")
        return table

    first, second = fill(), fill()
    assert len(first.entries) <= 100
    assert first.entries["frequent"].count == 5000
    assert (first.entries["frequent"].first, first.entries["frequent"].last) == (0.0, 4999.0)
    assert list(first.entries) == list(second.entries)


def test_a_template_reads_with_ellipses_where_the_values_were() -> None:
    from runbook.analysis.fingerprint import elide_placeholders
    template = normalize_message('FATAL: role "shop_ro" does not exist at 10.0.0.7:5432 after 3 tries')
    assert "<q>" in template and "<ip>" in template
    assert elide_placeholders(template) == 'FATAL: role "…" does not exist at … after … tries'
