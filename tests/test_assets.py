"""Static files under content-hashed names with long cache lifetimes, and compressed responses."""
from __future__ import annotations

import gzip
import re


def asset_urls(client) -> list[str]:  # type: ignore[no-untyped-def]
    page = client.get("/auth/login").get_data(as_text=True)
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page)


def test_pages_link_fingerprinted_files_cached_for_a_year(client):  # type: ignore[no-untyped-def]
    urls = asset_urls(client)
    assert {re.sub(r"\.[0-9a-f]{10}\.", ".", u) for u in urls} == {
        "/static/css/app.css", "/static/favicon.svg", "/static/vendor/htmx.min.js", "/static/js/toast.js",
        "/static/js/calendar-keys.js"}
    for url in urls:
        response = client.get(url)
        response.close()
        assert response.status_code == 200
        cache = response.headers["Cache-Control"]
        assert "max-age=31536000" in cache and "immutable" in cache and "no-store" not in cache


def test_the_plain_name_answers_briefly_cached_and_a_wrong_hash_is_missing(client):  # type: ignore[no-untyped-def]
    plain = client.get("/static/css/app.css")
    plain.close()
    assert plain.status_code == 200 and "max-age=300" in plain.headers["Cache-Control"]
    assert client.get("/static/css/app.0123456789.css").status_code == 404
    assert client.get("/static/../booking/config.py").status_code == 404
    assert client.get("/static/nothing.js").status_code == 404


def test_a_changed_file_gets_a_new_name(app, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    from booking import assets

    (tmp_path / "static").mkdir()
    file = tmp_path / "static" / "a.css"
    file.write_text("a{}")
    monkeypatch.setattr(app, "root_path", str(tmp_path))
    with app.test_request_context():
        first = assets.fingerprinted("a.css")
        file.write_text("a{color:red}")
        import os

        os.utime(file, ns=(1, 10**18))
        assert assets.fingerprinted("a.css") != first


def test_pages_and_files_are_compressed_when_the_browser_accepts_it(client):  # type: ignore[no-untyped-def]
    page = client.get("/auth/login", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in page.headers["Vary"]
    assert b"<form" in gzip.decompress(page.get_data())
    [script] = [u for u in asset_urls(client) if "htmx" in u]
    response = client.get(script, headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip" and len(response.get_data()) < 20_000
    assert b"htmx" in gzip.decompress(response.get_data())
    chromium = client.get(script, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert chromium.headers["Content-Encoding"] in ("zstd", "br")
    plain = client.get("/auth/login")
    assert "Content-Encoding" not in plain.headers
