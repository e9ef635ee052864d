"""POST /api/v1/imports/myanimelist: a MyAnimeList export in, recommendations for that list out.

The gateway runs in front of the real recommender app (its own route POST /profiles/recommendations and
the cold-start engine), on the recommender tests' planted world (four taste clusters of 20 anime: anime
1-20 are cluster 0, 21-40 cluster 1, ...) and, where ../shared/data/mal2020 is present, on the real MAL
sample with a real user's list written as MAL's export. Hostile files are refused before the recommender
is asked anything.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from gateway_fakes import ServedApp

pytest.importorskip("animerec_recommender", reason="the recommender service is not installed")
from animerec_shared.contracts.imports import PROFILE_MAX_IDS
from animerec_shared.launcher import free_port
from tests.recommender.recommender_fixtures import publish_planted, publish_processed, publish_svd_model
from tests.recommender.recommender_live import LiveServer, make_settings

IMPORT = "/api/v1/imports/myanimelist"
STATUS_WORDS = {1: "Watching", 2: "Completed", 3: "On-Hold", 4: "Dropped", 6: "Plan to Watch"}


def mal_export(rows: list[tuple[int, int, int, int]], *, numeric_status: bool = False, title: str = "Anime") -> bytes:
    """Returns an export as MAL's "Export" writes it, for rows (anime_id, score, status code, watched episodes)."""
    out = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        "<!--\n Created by XML Export feature at MyAnimeList.net\n Version 1.1.0\n-->",
        "<myanimelist>",
        "\t<myinfo>\n\t\t<user_id>1234567</user_id>\n\t\t<user_name>someone</user_name>\n\t\t<user_export_type>1"
        f"</user_export_type>\n\t\t<user_total_anime>{len(rows)}</user_total_anime>\n\t</myinfo>",
    ]
    for anime_id, score, status, episodes in rows:
        word = str(status) if numeric_status else STATUS_WORDS[status]
        out.append(
            f"""\t<anime>
\t\t<series_animedb_id>{anime_id}</series_animedb_id>
\t\t<series_title><![CDATA[{title} {anime_id} & <friends>]]></series_title>
\t\t<series_type>TV</series_type>
\t\t<series_episodes>12</series_episodes>
\t\t<my_id>0</my_id>
\t\t<my_watched_episodes>{episodes}</my_watched_episodes>
\t\t<my_start_date>0000-00-00</my_start_date>
\t\t<my_finish_date>0000-00-00</my_finish_date>
\t\t<my_rated></my_rated>
\t\t<my_score>{score}</my_score>
\t\t<my_storage></my_storage>
\t\t<my_storage_value>0.00</my_storage_value>
\t\t<my_status>{word}</my_status>
\t\t<my_comments><![CDATA[]]></my_comments>
\t\t<my_times_watched>0</my_times_watched>
\t\t<my_rewatch_value></my_rewatch_value>
\t\t<my_priority>LOW</my_priority>
\t\t<my_tags><![CDATA[]]></my_tags>
\t\t<my_rewatching>0</my_rewatching>
\t\t<my_rewatching_ep>0</my_rewatching_ep>
\t\t<my_discuss>1</my_discuss>
\t\t<my_sns>default</my_sns>
\t\t<update_on_import>0</update_on_import>
\t</anime>"""
        )
    out.append("</myanimelist>\n")
    return "\n".join(out).encode()


# The planted list: cluster 0 loved (3-10 scored 9-10, a 6 below the mean), one cluster-1 anime scored 3,
# a Dropped cluster-2 anime, two cluster-0 anime planned, one watched unscored, two ids MAL has and we do not.
LIKED = [3, 4, 5, 6, 7, 8, 9, 10]
PLANTED_ROWS = [
    *[(a, 9 + a % 2, 2, 12) for a in LIKED],
    (14, 7, 2, 12),  # 7 against a mean of ~8.5: watched, no signal
    (21, 3, 2, 12),  # disliked
    (41, 0, 4, 3),  # Dropped, unscored: disliked all the same
    (11, 0, 6, 0),
    (12, 0, 6, 0),  # Plan to Watch
    (13, 0, 1, 5),  # Watching, unscored
    (99999, 8, 2, 12),  # below the mean too: no signal
    (88888, 0, 6, 0),  # not in the catalogue
]


def _gateway(recommender_url: str, storage: Path, **settings: Any) -> ServedApp:
    from animerec_gateway.app import create_app
    from animerec_gateway.config import Settings

    dead = "http://127.0.0.1:9"  # the other upstreams are not needed
    values = {
        "environment": "test",
        "log_level": "WARNING",
        "rate_limit_per_minute": 100_000,
        "costly_per_minute": 100_000,
        "recommender_url": recommender_url,
        "ingestion_url": dead,
        "training_url": dead,
        "explainer_url": dead,
        "storage_url": storage.as_uri(),
        "response_cache_ttl_seconds": 0,
        **settings,
    }
    return ServedApp(create_app(Settings(**values)), free_port()).start()


@pytest.fixture(scope="module")
def planted_recommender(tmp_path_factory) -> Iterator[str]:
    from animerec_recommender.app import create_app
    from animerec_shared.storage import FileStorage

    storage = FileStorage(tmp_path_factory.mktemp("mal-import-planted") / "storage")
    publish_planted(storage)
    with LiveServer(create_app(make_settings(storage.root, None))) as server:
        server.wait_ready()
        yield server.url


@pytest.fixture(scope="module")
def gateway(planted_recommender, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    storage = tmp_path_factory.mktemp("mal-import-gateway") / "storage"
    served = _gateway(planted_recommender, storage)
    yield served.url, storage
    served.stop()


def post(url: str, data: bytes, name: str = "animelist.xml", **params: Any) -> httpx.Response:
    return httpx.post(f"{url}{IMPORT}", files={"file": (name, data, "application/xml")}, params=params, timeout=60)


def error_of(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    return body["error"]


def ids(items: list[dict[str, Any]]) -> list[int]:
    return [it["anime_id"] for it in items]


def stored_objects(storage: Path) -> list[Path]:
    folder = storage / "imports" / "myanimelist"
    return sorted(p for p in folder.glob("*") if p.is_file()) if folder.exists() else []


def test_planted_list_semantics_dropped_plan_to_watch_unknown_and_genres(gateway):
    url, storage = gateway
    resp = post(url, mal_export(PLANTED_ROWS))
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "private"
    body = resp.json()
    assert set(body) == {"recommendations", "continue", "preferences", "summary", "stored"}
    recs = body["recommendations"]
    items, cont = recs["items"], body["continue"]
    assert len(items) == 10
    shown = ids(items) + ids(cont)
    # watched (liked, neutral, disliked, Watching) and Dropped anime are never recommended again
    assert not set(shown) & {*LIKED, 14, 21, 41, 13}
    assert 1 not in shown  # the adult title: include_adult defaults to false
    # the list is cluster 0's taste; Plan to Watch anime of cluster 0 may be recommended, and say so
    assert sum(1 for a in ids(items) if (a - 1) // 20 == 0) >= 7, ids(items)
    planned_shown = [a for a in shown if a in (11, 12)]
    assert planned_shown, shown
    assert recs["plan_to_watch_ids"] == planned_shown
    for it in items + cont:
        assert it["plan_to_watch"] is (it["anime_id"] in (11, 12))
        assert {"anime_id", "title", "genres", "sources"} <= set(it)  # the recommender's item, passed through
    assert body["preferences"]["genres"][0]["genre"] in ("Action", "Shounen")
    assert {g["genre"] for g in body["preferences"]["genres"]} == {"Action", "Shounen"}  # liked anime only
    summary = body["summary"]
    assert summary == {
        "entries": 16,
        "matched": 14,
        "unknown": 2,
        "unknown_ids": [88888, 99999],
        "scored": 11,
        "unscored": 5,
        "mean_score": round(sum(s for _, s, st, _ in PLANTED_ROWS if s and st != 6) / 11, 3),
        "liked": 8,  # the cluster-0 anime scored 9-10 (>= the mean 8.55)
        "disliked": 2,  # the 3 and the Dropped one
        "dropped": 1,
        "plan_to_watch": 3,
        "liked_from": "scores",
    }
    assert body["stored"] is None
    assert recs["strategy"] == "hybrid" and recs["model_version"] == "v-planted-1"


def test_import_relevance_is_the_lists_one_in_0_1_non_increasing(gateway):
    """The import scales relevance with the list routes' helper: the best discovery item 1, then non-increasing."""
    url, _ = gateway
    body = post(url, mal_export(PLANTED_ROWS), limit=20).json()
    items, cont = body["recommendations"]["items"], body["continue"]
    rel = [it["relevance"] for it in items]
    assert rel and all(r is not None and 0.0 <= r <= 1.0 for r in rel), rel
    assert rel[0] == 1.0 and rel == sorted(rel, reverse=True), rel
    assert all(it["relevance"] is None or 0.0 <= it["relevance"] <= 1.0 for it in cont), cont
    assert all("similarity" not in it for it in items + cont)


def test_numeric_status_codes_and_gzip_answer_the_same(gateway):
    url, _ = gateway
    plain = post(url, mal_export(PLANTED_ROWS)).json()
    numeric = post(url, mal_export(PLANTED_ROWS, numeric_status=True)).json()
    gz = post(url, gzip.compress(mal_export(PLANTED_ROWS)), name="animelist.xml.gz").json()
    for other in (numeric, gz):
        assert ids(other["recommendations"]["items"]) == ids(plain["recommendations"]["items"])
        assert other["summary"] == plain["summary"]
    # several gzip members, as `cat a.gz b.gz` writes them
    xml = mal_export(PLANTED_ROWS)
    two = gzip.compress(xml[:1000]) + gzip.compress(xml[1000:])
    assert post(url, two).json()["summary"] == plain["summary"]


def test_limit_and_include_adult_are_passed_on(gateway):
    url, _ = gateway
    rows = [(a, 10, 2, 12) for a in (2, 3, 4, 5)]  # cluster 0 around the adult anime 1
    small = post(url, mal_export(rows), limit=3).json()
    assert len(small["recommendations"]["items"]) == 3
    adult = post(url, mal_export(rows), limit=100, include_adult="true").json()
    assert 1 in ids(adult["recommendations"]["items"])
    assert error_of(post(url, mal_export(rows), limit=101), 422, "validation_error")


def test_store_false_leaves_storage_untouched_and_store_true_writes_one_object(gateway):
    url, storage = gateway
    before = stored_objects(storage)
    assert post(url, mal_export(PLANTED_ROWS)).json()["stored"] is None
    assert stored_objects(storage) == before
    first = post(url, mal_export(PLANTED_ROWS), store="true").json()["stored"]
    again = post(url, gzip.compress(mal_export(PLANTED_ROWS)), store="true").json()["stored"]
    assert first == again  # the same list, the same key
    written = [p for p in stored_objects(storage) if p not in before]
    assert len(written) == 1 and not [p for p in (storage / "imports" / "myanimelist").iterdir() if p.is_dir()]
    raw = written[0].read_bytes()
    assert first["key"] == f"imports/myanimelist/{hashlib.sha256(raw).hexdigest()}.json" == first["key"]
    assert written[0].name == f"{first['sha256']}.json"
    doc = json.loads(raw)
    assert doc["format"] == "animerec.myanimelist-import/1"
    assert len(doc["entries"]) == 16 and doc["entries"][0] == {
        "anime_id": 3,
        "status": "completed",
        "score": 10,
        "watched_episodes": 12,
    }
    assert b"someone" not in raw and b"1234567" not in raw and b"Anime" not in raw  # the parsed list, not the file


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<myanimelist><anime><series_animedb_id>5</series_animedb_id><series_title>&lol9;</series_title>
<my_score>9</my_score><my_status>Completed</my_status></anime></myanimelist>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE myanimelist [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<myanimelist><anime><series_animedb_id>5</series_animedb_id><series_title>&xxe;</series_title>
<my_score>9</my_score><my_status>&xxe;</my_status></anime></myanimelist>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE myanimelist SYSTEM "http://127.0.0.1:9/evil.dtd">
<myanimelist><anime><series_animedb_id>5</series_animedb_id><my_status>Completed</my_status></anime></myanimelist>"""


@pytest.mark.parametrize("doc", [BILLION_LAUGHS, XXE, EXTERNAL_DTD], ids=["billion-laughs", "xxe", "external-dtd"])
def test_entities_and_dtds_are_refused_and_nothing_leaks(gateway, doc):
    url, storage = gateway
    before = stored_objects(storage)
    for data in (doc, gzip.compress(doc)):
        started = time.perf_counter()
        resp = post(url, data, store="true")
        assert time.perf_counter() - started < 5
        error_of(resp, 422, "import_forbidden_xml")
        assert "root:" not in resp.text and "lol" not in resp.text
    assert stored_objects(storage) == before


def _bomb(total_bytes: int, head: bytes = b"<myanimelist>", filler: bytes = b" ") -> bytes:
    """Returns a valid gzip file of head + total_bytes of filler, built in a streaming way in under a second.

    Each 1 MiB block is deflated once, ending in a full flush (byte-aligned, no back-references), so the
    stream is that piece repeated, a final empty block and the gzip trailer (crc32 and size of the whole)."""

    def raw(data: bytes) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        return packer.compress(data) + packer.flush(zlib.Z_FULL_FLUSH)

    block = filler * (1 << 20)
    n = total_bytes // len(block)
    crc = zlib.crc32(head)
    for _ in range(n):
        crc = zlib.crc32(block, crc)
    end = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush()
    size = (len(head) + n * len(block)) & 0xFFFFFFFF
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + raw(head) + raw(block) * n + end + struct.pack("<II", crc, size)


def test_the_bomb_is_a_valid_gzip_file():
    assert gzip.decompress(_bomb(3 << 20)) == b"<myanimelist>" + b" " * (3 << 20)


@pytest.fixture(scope="module")
def gigabyte_bomb() -> bytes:
    return _bomb(1 << 30)


def test_a_gzip_bomb_is_refused_at_the_xml_cap_without_inflating_it_all(gateway, gigabyte_bomb):
    url, _ = gateway
    assert len(gigabyte_bomb) < 1_100_000  # 1 GiB of XML whitespace in about 1 MB
    started = time.perf_counter()
    err = error_of(post(url, gigabyte_bomb, name="animelist.xml.gz"), 413, "import_too_large")
    took = time.perf_counter() - started
    assert err["details"] == {"part": "xml", "limit_bytes": 64 * 1024 * 1024}
    assert took < 10, took  # stops at 64 MiB of the 1 GiB
    zeros = _bomb(1 << 28, head=b"", filler=b"\0")  # not even XML: refused at its first bytes
    error_of(post(url, zeros), 422, "import_malformed_xml")


def test_too_many_entries_and_the_upload_cap(gateway, planted_recommender, tmp_path):
    url, _ = gateway
    rows = [(a, 8, 2, 1) for a in range(1, PROFILE_MAX_IDS + 2)]
    err = error_of(post(url, gzip.compress(mal_export(rows))), 413, "import_too_many_entries")
    assert err["details"] == {"limit": PROFILE_MAX_IDS}
    small = _gateway(planted_recommender, tmp_path / "storage", import_max_upload_bytes=50_000, import_max_entries=20)
    try:
        twenty_one = mal_export([(a, 8, 2, 1) for a in range(1, 22)])
        error_of(post(small.url, twenty_one), 413, "import_too_many_entries")
        assert post(small.url, mal_export([(a, 8, 2, 1) for a in range(1, 21)])).status_code == 200
        padded = mal_export(PLANTED_ROWS).replace(b"<myanimelist>", b"<myanimelist>" + b" " * 60_000)
        err = error_of(post(small.url, padded), 413, "import_too_large")  # within the framing, over the cap
        assert err["details"]["part"] == "upload"
        huge = b" " * 2_000_000
        error_of(post(small.url, huge), 413, "import_too_large")  # refused from the stream
        big_json = httpx.post(f"{small.url}/api/v1/recommendations", content=b" " * 2_000_000, timeout=10)
        error_of(big_json, 413, "payload_too_large")  # other routes keep the ordinary body limit
    finally:
        small.stop()


@pytest.mark.parametrize(
    ("data", "code", "details"),
    [
        (b"<myanimelist><anime><series_animedb_id>5</series_animedb_id>\n</anim></myanimelist>", "import_malformed_xml",
         {"line": 2, "column": 2}),
        (b"", "import_malformed_xml", {"line": 1, "column": 0}),
        (b"<html><body>hello</body></html>", "import_not_myanimelist", None),
        (b"<myanimelist><myinfo/></myanimelist>", "import_empty", None),
        (mal_export([(5, 9, 2, 1)]).replace(b"Completed", b"Finished"), "import_invalid_entry",
         {"entry": 1, "field": "my_status", "found": "Finished"}),
        (mal_export([(5, 11, 2, 1)]), "import_invalid_entry", {"entry": 1, "field": "my_score", "found": "11"}),
        (mal_export([(5, 9, 2, 1)]).replace(b">5<", b">x<"), "import_invalid_entry",
         {"entry": 1, "field": "series_animedb_id", "found": "x"}),
        (b"\x1f\x8b\x08\x00garbage", "import_bad_gzip", None),
        (gzip.compress(mal_export([(5, 9, 2, 1)]))[:-30], "import_bad_gzip", None),
    ],
    ids=["malformed", "empty", "not-mal", "no-entries", "status", "score", "id", "bad-gzip", "truncated-gzip"],
)  # fmt: skip
def test_bad_files_get_a_stable_code(gateway, data, code, details):
    url, _ = gateway
    err = error_of(post(url, data), 422, code)
    if details is not None:
        assert err["details"] == details
    if code == "import_malformed_xml":
        assert f"line {details['line']}, column {details['column']}" in err["message"]


def test_unknown_ids_only_no_file_and_openapi(gateway):
    url, _ = gateway
    err = error_of(post(url, mal_export([(99999, 9, 2, 1), (88888, 0, 6, 0)])), 422, "import_nothing_known")
    assert err["details"] == {"unknown": 2, "unknown_ids": [88888, 99999]}
    error_of(httpx.post(f"{url}{IMPORT}", data={"x": "1"}), 422, "import_no_file")
    error_of(httpx.post(f"{url}{IMPORT}", json={"liked": [1]}), 422, "import_no_file")
    # unscored but watched: the watched anime rank the list
    body = post(url, mal_export([(3, 0, 2, 12), (4, 0, 2, 12), (5, 0, 1, 3)])).json()
    assert body["summary"]["liked_from"] == "seen" and body["summary"]["liked"] == 0
    assert not {3, 4, 5} & set(ids(body["recommendations"]["items"]))
    spec = httpx.get(f"{url}/openapi.json").json()
    op = spec["paths"][IMPORT]["post"]
    assert "multipart/form-data" in op["requestBody"]["content"]
    assert {p["name"] for p in op["parameters"]} == {"limit", "include_adult", "store"}
    assert op["responses"]["200"]["content"]["application/json"]["example"]["summary"]["unknown_ids"]
    assert {"413", "422", "429"} <= set(op["responses"])


def test_imports_draw_on_the_costly_budget(planted_recommender, tmp_path):
    served = _gateway(planted_recommender, tmp_path / "storage", costly_per_minute=20)
    try:
        codes = [post(served.url, mal_export(PLANTED_ROWS)).status_code for _ in range(3)]
        assert codes == [200, 200, 429]  # 10 tokens each of a 20-token bucket
        assert httpx.get(f"{served.url}/api/v1/anime/1").status_code != 429  # ordinary requests go on
    finally:
        served.stop()


# -- the real MAL sample: a real user's list, written as MAL's export ------------------------------------


@pytest.fixture(scope="module")
def real_gateway(tmp_path_factory, real_data) -> Iterator[tuple[str, set[int]]]:
    from animerec_recommender.app import create_app
    from animerec_recommender.config import Settings
    from animerec_shared.storage import FileStorage

    storage = FileStorage(tmp_path_factory.mktemp("mal-import-real") / "storage")
    ratings = pd.read_csv(real_data / "rating_complete_sample.csv", nrows=40_000)
    meta = pd.read_csv(real_data / "anime.csv")
    meta = meta[meta["MAL_ID"].isin(ratings["anime_id"])]
    synopsis = pd.read_csv(real_data / "anime_with_synopsis.csv")
    pid = publish_processed(storage, "p-import", ratings, meta, synopsis[synopsis["MAL_ID"].isin(meta["MAL_ID"])])
    publish_svd_model(storage, pid, "svd-import-test", dim=32)
    settings = Settings(
        storage_url=storage.root.as_uri(), poll_interval_seconds=0, tune=False, ease_top_n=500, log_json=False
    )
    with LiveServer(create_app(settings)) as server:
        server.wait_ready(timeout=180)
        served = _gateway(server.url, tmp_path_factory.mktemp("mal-import-real-gw") / "storage")
        try:
            yield served.url, set(meta["MAL_ID"].astype(int))
        finally:
            served.stop()


def test_a_real_users_export_plain_and_gzipped(real_gateway, real_data):
    url, catalogue = real_gateway
    lists = pd.read_csv(real_data / "animelist_sample.csv")
    user = lists[lists["user_id"] == lists["user_id"].value_counts().index[0]]  # the longest list (1,012)
    rows = [
        (int(r.anime_id), int(r.rating), int(r.watching_status), int(r.watched_episodes)) for r in user.itertuples()
    ]
    xml = mal_export(rows, title="Real")
    started = time.perf_counter()
    resp = post(url, xml)
    took = time.perf_counter() - started
    assert resp.status_code == 200, resp.text
    body = resp.json()
    gz = post(url, gzip.compress(xml)).json()
    assert ids(gz["recommendations"]["items"]) == ids(body["recommendations"]["items"])
    summary = body["summary"]
    distinct = user.drop_duplicates("anime_id")
    unknown = sorted(set(distinct["anime_id"]) - catalogue)
    assert summary["entries"] == len(distinct)
    assert summary["unknown"] == len(unknown) and summary["unknown_ids"] == unknown[:20]
    assert summary["matched"] == len(distinct) - len(unknown)
    assert summary["dropped"] == int((distinct["watching_status"] == 4).sum())
    assert summary["plan_to_watch"] == int((distinct["watching_status"] == 6).sum())
    assert summary["unscored"] == int((distinct["rating"] == 0).sum())
    watched = set(distinct.loc[distinct["watching_status"].isin([1, 2, 3, 4]), "anime_id"])
    planned = set(distinct.loc[distinct["watching_status"] == 6, "anime_id"])
    items = body["recommendations"]["items"] + body["continue"]
    assert items and not set(ids(items)) & watched
    assert body["recommendations"]["plan_to_watch_ids"] == [a for a in ids(items) if a in planned]
    assert body["preferences"]["genres"]
    print(f"\nreal list: {len(rows)} entries, {summary['matched']} matched, answered in {took * 1000:.0f} ms")
