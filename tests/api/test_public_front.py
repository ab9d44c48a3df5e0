"""The bare server answers plain anonymous reads of public pinned contents from the public tree in its
HTTP protocol (api/public_front.py), as nginx does in front of it (issue 17): same headers as the
application's answer, the same access rules (only what the tree holds, swept when a dataset stops being
public), and everything else (credentials, CORS, conditional requests, pipelined requests behind a
running one) still reaches the application."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import struct
import time
from functools import partial
from pathlib import Path

import httpx
from sqlalchemy import text

from cim_platform.core.settings import Settings
from tests.support.stored_datasets import store_dataset
from tests.support.waiting import wait_for

VOLATILE = ("date", "x-request-id")
ROUTE = 'route="/tiles/{dataset_id}/r/{revision_id}/{path:path}"'
NESTED = b"glTF synthetic example (nested)" + bytes(range(256)) * 8
FLAT = b"glTF synthetic example (flat)" + bytes(range(255, -1, -1)) * 4
LARGE = b"glTF synthetic example (large)" + os.urandom(1536 * 1024)  # sent from the tree (≤ MAX_BYTES)
HUGE = b"glTF synthetic example (huge)" + os.urandom(3 * 1024 * 1024)  # sent by the application


def _stable(headers: httpx.Headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in VOLATILE}


def _front_answers(base: str) -> float:
    """How many GETs of pinned contents were answered with 200 (the metrics, this process)."""
    metrics = httpx.get(f"{base}/metrics", timeout=30).text
    found = re.search(r'cim_http_requests_total\{method="GET",' + re.escape(ROUTE) + r',status="200"\} (\S+)', metrics)
    return float(found[1]) if found else 0.0


def _responses(raw: bytes, heads: tuple[int, ...] = ()) -> list[tuple[int, dict[str, str], bytes]]:
    """Parse complete HTTP/1.1 responses sent back to back (Content-Length bodies; the answers numbered in
    ``heads`` are to HEAD requests: no body)."""
    answers: list[tuple[int, dict[str, str], bytes]] = []
    while b"\r\n\r\n" in raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines[1:])
        length = 0 if len(answers) in heads else int(headers.get("content-length", "0"))
        if len(rest) < length:
            break
        answers.append((int(lines[0].split()[1]), headers, rest[:length]))
        raw = rest[length:]
    return answers


def _exchange(
    base: str, request: bytes, answers: int, heads: tuple[int, ...] = ()
) -> list[tuple[int, dict[str, str], bytes]]:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(request)
        raw = b""
        while len(parsed := _responses(raw, heads)) < answers:
            chunk = connection.recv(65536)
            assert chunk, f"the server closed the connection after {len(parsed)} answers"
            raw += chunk
    return parsed


def test_the_protocol_answers_public_pinned_contents_from_the_tree(  # type: ignore[no-untyped-def]
    settings: Settings, cast, live_server: str
) -> None:
    contents = {"tiles/nested.glb": ("model/gltf-binary", NESTED), "flat.glb": ("model/gltf-binary", FLAT)}
    dataset, revision = store_dataset(cast, "示例 public front (synthetic example)", contents)
    sha = {path: hashlib.sha256(data).hexdigest() for path, (_, data) in contents.items()}
    url = {path: f"/tiles/{dataset}/r/{revision}/{path}?v={sha[path]}" for path in contents}
    tree = settings.resolved_data_dir / "tile-cache" / "public" / str(dataset) / str(revision)

    def in_tree(path: str) -> Path:
        return tree / sha[path] / path

    # the application answers (and, from the cached answer on, fills the tree); the answer to compare with
    reference = {path: httpx.get(live_server + url[path], timeout=30) for path in contents}
    def filled(path: str) -> bool:
        return httpx.get(live_server + url[path], timeout=30).status_code == 200 and in_tree(path).exists()

    for path, answer in reference.items():
        assert answer.status_code == 200 and answer.content == contents[path][1]
        wait_for(partial(filled, path))
    assert in_tree("tiles/nested.glb").read_bytes() == NESTED

    before = _front_answers(live_server)
    with httpx.Client(timeout=30) as client:  # one keep-alive connection, several answers
        for _ in range(3):
            for path in contents:
                answer = client.get(live_server + url[path], headers={"X-Request-ID": "front-test-1"})
                assert answer.status_code == 200 and answer.content == contents[path][1]
                assert _stable(answer.headers) == _stable(reference[path].headers)
                assert answer.headers["etag"] == f'"{sha[path]}"' and answer.headers["x-request-id"] == "front-test-1"
                head = client.head(live_server + url[path])
                assert (
                    head.status_code == 200 and head.content == b"" and _stable(head.headers) == _stable(answer.headers)
                )
                assert re.fullmatch(r"[0-9a-f]{32}", head.headers["x-request-id"])
    assert _front_answers(live_server) == before + 6  # counted as the application counts them

    # answered from the tree's file: a file of other bytes put there is what a plain read gets ...
    marker = b"glTF synthetic example: only the tree holds this"
    (in_tree("flat.glb").parent / "marker").write_bytes(marker)
    (in_tree("flat.glb").parent / "marker").replace(in_tree("flat.glb"))
    plain = httpx.get(live_server + url["flat.glb"], timeout=30)
    assert plain.content == marker and plain.headers["content-length"] == str(len(marker))
    # ... and what is not plain still reaches the application, which sends the stored bytes
    for headers in (
        {"Origin": "http://portal.example"},
        {"If-None-Match": '"another"'},
        cast.headers("surveyor"),
        {"Cookie": "cim_session=not-a-session"},
        {"Range": "bytes=0-3"},
    ):
        answer = httpx.get(live_server + url["flat.glb"], headers=headers, timeout=30)
        assert answer.status_code in (200, 206) and answer.content in (FLAT, FLAT[:4]), headers
    assert httpx.get(live_server + url["flat.glb"] + "&x=1", timeout=30).content == FLAT  # another query
    # another digest, or a path leaving the folder, never finds the tree's file
    assert httpx.get(f"{live_server}/tiles/{dataset}/r/{revision}/flat.glb?v={'0' * 64}", timeout=30).content == FLAT
    escaping = f"GET /tiles/{dataset}/r/{revision}/tiles/../flat.glb?v={sha['flat.glb']} HTTP/1.1\r\nHost: x\r\n\r\n"
    [(_, _, body)] = _exchange(live_server, escaping.encode(), 1)
    assert body != marker
    upper = f"/tiles/{str(dataset).upper()}/r/{revision}/flat.glb?v={sha['flat.glb']}"
    assert httpx.get(live_server + upper, timeout=30).content == FLAT

    in_tree("flat.glb").write_bytes(FLAT)

    # pipelined: a request still answered by the application keeps the ones behind it waiting (in order)
    nested_url, flat_url = url["tiles/nested.glb"].encode(), url["flat.glb"].encode()
    pipelined = (
        b"GET " + nested_url + b" HTTP/1.1\r\nHost: x\r\nOrigin: http://portal.example\r\n\r\n"
        b"GET " + flat_url + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        b"HEAD " + nested_url + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET " + nested_url + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    answers = _exchange(live_server, pipelined, 4, heads=(2,))
    assert [status for status, _, _ in answers] == [200, 200, 200, 200]
    assert [body for _, _, body in answers] == [NESTED, FLAT, b"", NESTED]
    assert answers[2][1]["content-length"] == str(len(NESTED))
    # HTTP/1.0 (no keep-alive): the answer says so and the connection is closed after it
    host, port = live_server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(b"GET " + nested_url + b" HTTP/1.0\r\n\r\n")
        raw = b""
        while chunk := connection.recv(65536):
            raw += chunk
    [(status, headers, body)] = _responses(raw)
    assert status == 200 and body == NESTED and headers["connection"] == "close"
    # nothing is answered after an answer that closes the connection, even if more was asked at once
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(b"GET " + nested_url + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" * 2)
        raw = b""
        while chunk := connection.recv(65536):
            raw += chunk
    assert [body for _, _, body in _responses(raw)] == [NESTED]

    # the dataset stops being public (in SQL, not through the API): the sweep empties the tree, and
    # anonymous reads are refused again
    with cast.engine.begin() as conn:
        conn.execute(text("UPDATE datasets SET visibility = 'internal' WHERE id = :id"), {"id": dataset})
    wait_for(lambda: not tree.exists(), timeout=30)
    wait_for(lambda: httpx.get(live_server + url["tiles/nested.glb"], timeout=30).status_code == 404, timeout=30)
    owner = cast.headers("surveyor")
    assert httpx.get(live_server + url["tiles/nested.glb"], headers=owner, timeout=30).content == NESTED


def test_slow_and_vanishing_readers_of_the_tree(settings: Settings, cast, live_server: str) -> None:  # type: ignore[no-untyped-def]
    """A client reading slowly gets every byte (what sendfile could not send at once goes through the
    transport, under uvicorn's flow control), a client gone mid-body costs nothing, and others are
    answered meanwhile."""
    dataset, revision = store_dataset(
        cast,
        "示例 public front large (synthetic example)",
        {"large.glb": ("model/gltf-binary", LARGE), "huge.glb": ("model/gltf-binary", HUGE)},
    )
    sha = hashlib.sha256(LARGE).hexdigest()
    url = f"/tiles/{dataset}/r/{revision}/large.glb?v={sha}"
    in_tree = settings.resolved_data_dir / "tile-cache" / "public" / str(dataset) / str(revision) / sha / "large.glb"
    wait_for(lambda: httpx.get(live_server + url, timeout=30).content == LARGE and in_tree.exists())
    host, port = live_server.removeprefix("http://").split(":")

    def connect(receive_buffer: int) -> socket.socket:
        client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        client.settimeout(30)
        client.connect((host, int(port)))
        return client

    request = f"GET {url} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    slow = connect(4096)
    slow.sendall(request * 2)  # two answers, the second behind the first's unsent bytes
    time.sleep(0.5)  # the server's send buffer fills up
    assert httpx.get(live_server + url, timeout=30).content == LARGE  # others are answered meanwhile
    raw = b""
    while len(answers := _responses(raw)) < 2:
        chunk = slow.recv(65536)
        assert chunk, "the server closed the connection"
        raw += chunk
        time.sleep(0.001)
    slow.close()
    assert [(status, body == LARGE) for status, _, body in answers] == [(200, True), (200, True)]

    gone = connect(4096)
    gone.sendall(request)
    gone.recv(1024)
    gone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset, not a clean close
    gone.close()
    with httpx.Client(timeout=30) as client:
        assert [client.get(live_server + url).content == LARGE for _ in range(3)] == [True, True, True]

    # a content above MAX_BYTES is sent by the application (in chunks, as the client reads), never from the tree
    huge_sha = hashlib.sha256(HUGE).hexdigest()
    huge_url = f"/tiles/{dataset}/r/{revision}/huge.glb?v={huge_sha}"
    huge_in_tree = in_tree.parent.parent / huge_sha / "huge.glb"
    wait_for(lambda: httpx.get(live_server + huge_url, timeout=30).content == HUGE and huge_in_tree.exists())
    other = huge_in_tree.parent / "other"
    other.write_bytes(HUGE[::-1])
    other.replace(huge_in_tree)
    assert httpx.get(live_server + huge_url, timeout=30).content == HUGE
