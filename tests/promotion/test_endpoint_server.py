"""The local endpoint's HTTP server under malformed requests and load (waitress on 127.0.0.1):
every bad request gets a 4xx and the server keeps answering; 50 keep-alive clients for 10 s see
no connection reset."""

import http.client
import json
import socket
import threading
import time

import pytest
from test_local_endpoints import deploy, post

# One xdist worker takes the module: its one endpoint (module_world, port) is made once per test run.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("endpoint_server")]
ROW = b"1,0,0,0,0,0,0,0"


@pytest.fixture(scope="module")
def port(module_world):
    """One server for the module: every test also checks that it still answers afterwards."""
    deploy(module_world, "qa", module_world.register(slope=2.0))
    return module_world.hosting("qa").describe_endpoint("california-housing-qa")["Port"]


def raw(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send bytes as they are (what http.client would refuse to send) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize(
    "body, content_type, says",
    [
        (b"1e39,0,0,0,0,0,0,0", "text/csv", "beyond float32"),
        (b"[[" + b"9" * 400 + b",0,0,0,0,0,0,0]]", "application/json", "beyond float32"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "nests too deeply"),
        (b'{"instances": [[1,2,3,4,5,6,7,8]], "instances": "x"}', "application/json", "list of feature rows"),
        (b"1,2,3,4,5,6,7,8\n" * 1000 + b"1,2", "text/csv", "row 1001 has 2 values"),
    ],
)
def test_malformed_bodies_get_400_and_the_server_keeps_answering(port, body, content_type, says):
    status, answer, _ = post(port, body, content_type)
    assert status == 400 and says in answer["error"], answer
    assert post(port, ROW)[1] == {"predictions": [[2.5]]}


@pytest.mark.parametrize(
    "request_bytes, expected",
    [
        (b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 15\r\nContent-Length: 3\r\n\r\n" + ROW, 400),
        (b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: abc\r\n\r\n", 400),
        (b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nConnection: close\r\n\r\n", 411),
        (b"GARBAGE\r\n\r\n", 400),
    ],
)
def test_malformed_requests_get_4xx(port, request_bytes, expected):
    answer = raw(port, request_bytes)
    assert status_of(answer) == expected, answer[:200]
    assert post(port, ROW)[1] == {"predictions": [[2.5]]}


def test_slow_and_half_open_clients_hold_no_worker(port):
    """Twenty connections that send half a request and stall: everyone else is still served at once."""
    stalled = []
    for _ in range(20):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 100\r\n\r\n1,0")
        stalled.append(sock)
    try:
        started = time.monotonic()
        for _ in range(20):
            assert post(port, ROW)[1] == {"predictions": [[2.5]]}
        assert time.monotonic() - started < 5
    finally:
        for sock in stalled:
            sock.close()
    assert post(port, ROW)[0] == 200


def test_fifty_keep_alive_clients_for_ten_seconds_see_no_reset(port):
    errors, answered, lock = [], [0], threading.Lock()
    deadline = time.monotonic() + 10

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for _ in range(2000):  # bounded in count as well as in time
                if time.monotonic() > deadline:
                    break
                connection.request("POST", "/invocations", ROW, {"Content-Type": "text/csv"})
                response = connection.getresponse()
                body = response.read()
                if response.status != 200 or json.loads(body) != {"predictions": [[2.5]]}:
                    raise AssertionError(f"{response.status} {body[:100]!r}")
                with lock:
                    answered[0] += 1
        except Exception as exc:  # noqa: BLE001 - counted and reported below
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and answered[0] > 500, (errors[:5], answered[0])
