"""HashStore, FileStore, TCPStore, PrefixStore: PyTorch's store API (no MPI needed)."""

import datetime
import multiprocessing
import threading
import time

import pytest

import ember
import ember.distributed as dist


def _stores(tmp_path):
    master = dist.TCPStore("127.0.0.1", 0, is_master=True, wait_for_workers=False)
    return {"hash": dist.HashStore(), "file": dist.FileStore(str(tmp_path / "fs"), 1),
            "tcp": master, "prefix": dist.PrefixStore("p", dist.HashStore())}


@pytest.mark.parametrize("kind", ["hash", "file", "tcp", "prefix"])
def test_store_api(kind, tmp_path):
    s = _stores(tmp_path)[kind]
    s.set("a", "1")
    s.set("b", b"\x00\xff")
    assert s.get("a") == b"1" and s.get("b") == b"\x00\xff"
    assert s.add("n", 5) == 5 and s.add("n", -2) == 3 and s.get("n") == b"3"
    # compare_set: missing key with expected "" sets; mismatch returns the current value
    assert s.compare_set("c", "", "x") == b"x"
    assert s.compare_set("c", "nope", "y") == b"x"
    assert s.compare_set("c", "x", "z") == b"z"
    assert s.compare_set("missing", "e", "d") == b"e"
    assert s.check(["a", "b"]) and not s.check(["a", "zzz"])
    n = s.num_keys()
    assert s.delete_key("a") and not s.delete_key("a")
    assert s.num_keys() == n - 1
    s.wait(["b"])
    s.set_timeout(datetime.timedelta(milliseconds=200))
    t0 = time.monotonic()
    with pytest.raises(dist.DistStoreError, match="timeout"):
        s.get("never")
    with pytest.raises(dist.DistStoreError):
        s.wait(["never"], datetime.timedelta(milliseconds=100))
    assert time.monotonic() - t0 < 5
    with pytest.raises(TypeError):
        s.set("k", 3.5)
    if kind == "tcp":
        s.close()


def test_store_errors_are_runtime_errors():
    assert issubclass(dist.DistStoreError, RuntimeError)
    assert issubclass(dist.DistBackendError, RuntimeError)
    s = dist.HashStore()
    s.set("x", "abc")
    with pytest.raises(dist.DistStoreError, match="not an integer"):
        s.add("x", 1)


def test_tcp_store_get_waits_for_another_client():
    master = dist.TCPStore("127.0.0.1", 0, world_size=2, is_master=True,
                           wait_for_workers=False)
    client = dist.TCPStore("127.0.0.1", master.port, world_size=2)
    threading.Timer(0.2, lambda: client.set("late", "here")).start()
    assert master.get("late") == b"here"
    assert client.add("ctr", 1) == 1 and master.add("ctr", 1) == 2
    client.close()
    master.close()


def test_tcp_store_master_waits_for_workers():
    port_box = []

    def worker():
        while not port_box:
            time.sleep(0.01)
        dist.TCPStore("127.0.0.1", port_box[0], world_size=2)

    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    port_box.append(port)
    th = threading.Thread(target=worker)
    th.start()
    master = dist.TCPStore("127.0.0.1", port, world_size=2, is_master=True,
                           timeout=datetime.timedelta(seconds=30))
    th.join()
    assert master.get("__tcpstore_init/num_members") == b"2"
    master.close()


def test_tcp_store_client_drops_a_self_connection(monkeypatch):
    # With no listener yet, connect() can land on the master's own port as its ephemeral
    # port and connect the socket to itself (a CI run lost a rendezvous this way). Make the
    # first attempt do exactly that: the client must drop it and reach the real master.
    import socket

    from ember.distributed import _store

    master = dist.TCPStore("127.0.0.1", 0, is_master=True, wait_for_workers=False)
    real, tries = socket.create_connection, []

    def first_self_connected(addr, timeout=None):
        tries.append(addr)
        if len(tries) == 1:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            s.connect(("127.0.0.1", s.getsockname()[1]))
            assert s.getsockname() == s.getpeername()
            return s
        return real(addr, timeout=timeout)

    monkeypatch.setattr(_store.socket, "create_connection", first_self_connected)
    client = dist.TCPStore("127.0.0.1", master.port)
    assert len(tries) == 2
    client.set("k", "v")
    assert master.get("k") == b"v"
    client.close()
    master.close()


def test_tcp_store_master_port_taken_names_it():
    import socket

    with socket.socket() as taken:
        taken.bind(("", 0))
        taken.listen()
        port = taken.getsockname()[1]
        t0 = time.monotonic()
        with pytest.raises(dist.DistNetworkError, match=f"could not listen on port {port}"):
            dist.TCPStore("127.0.0.1", port, is_master=True, wait_for_workers=False)
        assert time.monotonic() - t0 < 5
    assert issubclass(dist.DistNetworkError, dist.DistError)


def test_tcp_store_refuses_unsupported_arguments():
    with pytest.raises(NotImplementedError, match="multi_tenant"):
        dist.TCPStore("127.0.0.1", 0, is_master=True, multi_tenant=True)


def _file_store_child(path, i):
    s = dist.FileStore(path, 4)
    s.add("count", 1)
    s.set(f"k{i}", str(i))


def test_file_store_across_processes(tmp_path):
    path = str(tmp_path / "shared")
    ctx = multiprocessing.get_context("fork")  # no MPI in this process: forking is safe
    procs = [ctx.Process(target=_file_store_child, args=(path, i)) for i in range(3)]
    for p in procs:
        p.start()
    s = dist.FileStore(path, 4)
    s.wait([f"k{i}" for i in range(3)], datetime.timedelta(seconds=60))
    for p in procs:
        p.join(60)
    assert s.get("count") == b"3" and s.get("k2") == b"2"


def test_against_pytorch_hash_store():
    torch_dist = pytest.importorskip("torch.distributed")
    ops = [("set", "a", "1"), ("add", "n", 4), ("compare_set", "a", "1", "2"),
           ("compare_set", "a", "zz", "3"), ("compare_set", "new", "", "v"),
           ("get", "a"), ("get", "n"), ("delete_key", "a"), ("delete_key", "a"),
           ("check", ["n"]), ("num_keys",)]
    ours, theirs = dist.HashStore(), torch_dist.HashStore()
    for name, *args in ops:
        assert getattr(ours, name)(*args) == getattr(theirs, name)(*args), (name, args)


def test_not_initialized_errors():
    if dist.is_initialized():
        pytest.skip("a process group exists in this process")
    with pytest.raises(ValueError, match="not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="not been initialized"):
        dist.all_reduce(ember.ones(1))
    assert dist.is_available() in (True, False)
