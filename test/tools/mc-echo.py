#!/usr/bin/env python3
"""Request/response over TCP with every byte checked, for socket.bats.

  mc-echo.py serve ADDR PORT            echo every connection until EOF
  mc-echo.py pipe ADDR PORT             echo like socat's PIPE, blocking
                                        sockets, v4 and v6 on "::"; each
                                        connection read by one thread and
                                        written by another, so that reading
                                        never waits for writing
  mc-echo.py client ADDR PORT [--count N] [--interval S] [--max-size N]
                                        N messages of growing random size,
                                        each echoed back and compared
  mc-echo.py hold ADDR PORT             accept and never read
  mc-echo.py fill ADDR PORT             write without blocking until the
                                        writes stop being taken for 1 s (at
                                        most 10 s); print the bytes taken
  mc-echo.py inq ADDR PORT              for each connection: once data is
                                        readable, answer with what
                                        ioctl(FIONREAD) says is waiting
  mc-echo.py settle ADDR PORT           for each connection: without
                                        reading, wait until FIONREAD stops
                                        growing, then read exactly that many
                                        bytes without waiting, then read to
                                        EOF; print "fionread N read M
                                        zero_while_readable Z total T"
  mc-echo.py ask ADDR PORT N            send N bytes, print the answer
  mc-echo.py drain ADDR PORT            read every connection until EOF,
                                        starting 0.5 s after accept; never
                                        write; print "drained N"
  mc-echo.py push ADDR PORT N           send N bytes, wait 1 s, close
  mc-echo.py push2 ADDR PORT N          send N bytes, wait 2 s (a reader
                                        catches up), send N more, wait 1 s,
                                        close

One connection per client run, so a test can change things (DEL, rules)
while it is open. Exits 1 with a line saying what differed."""
import ctypes
import errno
import fcntl
import os
import queue
import select
import socket
import sys
import threading
import time


LIBC = ctypes.CDLL(None, use_errno=True)


def listener(addr, port):
    """A nonblocking listener, as event-driven servers and proxies use:
    the socket shortcut takes only sockets read without blocking."""
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setblocking(False)
    s.bind((addr, port))
    s.listen(64)
    return s


def accept(s):
    """accept4(SOCK_NONBLOCK): the new socket is nonblocking from its first
    moment (Python's accept() would leave it blocking until settimeout)."""
    while True:
        select.select([s], [], [])
        fd = LIBC.accept4(s.fileno(), None, None,
                          socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC)
        if fd >= 0:
            c = socket.socket(fileno=fd)
            c.settimeout(60)  # nonblocking fd, waits in poll()
            return c
        if ctypes.get_errno() not in (errno.EAGAIN, errno.EINTR):
            raise OSError(ctypes.get_errno(), "accept4")


def serve(addr, port):
    s = listener(addr, port)
    print("listening", flush=True)

    def one(c):
        with c:
            while True:
                d = c.recv(65536)
                if not d:
                    return
                c.sendall(d)

    while True:
        c = accept(s)
        threading.Thread(target=one, args=(c,), daemon=True).start()


def pipe(addr, port):
    """socat's PIPE server deadlocks itself: it reads 8 KiB from the socket
    whenever its own pipe has a page free and then blocks for good in
    write() to that pipe, which only it drains (seen in a TCG guest: the
    echo stopped at 73 KiB of 500 KB, the sender's data all acknowledged).
    Here the socket is read into a queue without bound (the tests send at
    most a few MB) and written from it by a second thread; at EOF the rest
    is written and the write side shut. Blocking sockets, as socat's, so
    that the socket shortcut's view of them is the same."""
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((addr, port))
    s.listen(64)

    def writer(c, q):
        try:
            while True:
                d = q.get()
                if d is None:
                    c.shutdown(socket.SHUT_WR)
                    return
                c.sendall(d)
        except OSError:
            pass
        finally:
            c.close()

    def reader(c):
        q = queue.SimpleQueue()
        threading.Thread(target=writer, args=(c, q), daemon=True).start()
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                q.put(d)
        except OSError:
            pass
        q.put(None)

    while True:
        c, _ = s.accept()
        threading.Thread(target=reader, args=(c,), daemon=True).start()


def client(addr, port, count, interval, max_size):
    c = socket.create_connection((addr, port), timeout=10)
    total = 0
    for i in range(count):
        m = os.urandom(1 + (i * 7919) % max_size)
        c.sendall(m)
        r = b""
        while len(r) < len(m):
            d = c.recv(65536)
            if not d:
                print(f"message {i}: EOF after {len(r)} of {len(m)} bytes")
                return 1
            r += d
        if r != m:
            print(f"message {i}: echo differs")
            return 1
        total += len(m)
        if interval:
            time.sleep(interval)
    c.close()
    print(f"ok messages={count} bytes={total}")
    return 0


def hold(addr, port):
    s = listener(addr, port)
    kept = []
    while True:
        kept.append(accept(s))


def fill(addr, port):
    c = socket.create_connection((addr, port), timeout=10)
    c.setblocking(False)
    buf = b"x" * 65536
    total, stalled, start = 0, 0.0, time.time()
    while stalled < 1.0 and time.time() - start < 10:
        try:
            total += c.send(buf)
            stalled = 0.0
        except BlockingIOError:
            time.sleep(0.05)
            stalled += 0.05
    print(total)
    return 0


def inq(addr, port):
    """FIONREAD (SIOCINQ) as programs use it to size a read: it must count
    what is readable, redirected or not."""
    s = listener(addr, port)
    print("listening", flush=True)
    while True:
        c = accept(s)
        with c:
            n = 0
            for _ in range(100):  # until the whole request is readable
                select.select([c], [], [], 1)
                buf = bytearray(4)
                fcntl.ioctl(c.fileno(), 0x541B, buf)  # FIONREAD
                n = int.from_bytes(buf, sys.byteorder)
                if n >= 1000:
                    break
                time.sleep(0.01)
            c.sendall(str(n).encode())


def fionread(c):
    buf = bytearray(4)
    fcntl.ioctl(c.fileno(), 0x541B, buf)  # FIONREAD
    return int.from_bytes(buf, sys.byteorder)


def settle(addr, port):
    """FIONREAD with bytes waiting on both paths (redirected ones in the
    socket's psock queue, later ones in its TCP queue): what it says must
    be readable at once, and it must never say 0 while bytes are readable
    (programs that size reads by it would stall)."""
    s = listener(addr, port)
    print("listening", flush=True)
    while True:
        c = accept(s)
        with c:
            last, stable, n = -1, 0, 0
            for _ in range(200):  # at most 10 s
                n = fionread(c)
                stable = stable + 1 if n == last and n > 0 else 0
                if stable >= 10:  # 0.5 s without growing
                    break
                last = n
                time.sleep(0.05)
            got = 0
            while got < n:
                try:
                    b = c.recv(min(65536, n - got), socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                if not b:
                    break
                got += len(b)
            total, zero = got, 0
            deadline = time.time() + 30
            while time.time() < deadline:
                r, _, _ = select.select([c], [], [], 1)
                if not r:
                    continue
                k = fionread(c)
                try:
                    b = c.recv(65536, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    continue
                if not b:
                    break
                if k == 0:
                    zero += 1  # readable bytes FIONREAD did not count
                total += len(b)
            print(f"fionread {n} read {got} zero_while_readable {zero} total {total}", flush=True)


def ask(addr, port, n):
    c = socket.create_connection((addr, port), timeout=10)
    c.sendall(b"q" * n)
    print(c.recv(64).decode())
    c.close()
    return 0


def drain(addr, port):
    s = listener(addr, port)
    print("listening", flush=True)
    while True:
        c = accept(s)
        time.sleep(0.5)  # a reader that starts late: the writer outruns it
        with c:
            n = 0
            while True:
                b = c.recv(65536)
                if not b:
                    break
                n += len(b)
            print(f"drained {n}", flush=True)


def push(addr, port, n):
    c = socket.create_connection((addr, port), timeout=10)
    c.sendall(b"p" * n)
    time.sleep(1)  # open while the reader reads
    c.close()
    return 0


def push2(addr, port, n):
    c = socket.create_connection((addr, port), timeout=10)
    c.sendall(b"p" * n)
    time.sleep(2)  # the reader reads it all meanwhile
    c.sendall(b"q" * n)
    time.sleep(1)
    c.close()
    return 0


# subcommand: its function, and whether it takes N after ADDR PORT (the
# servers never return)
COMMANDS = {"serve": (serve, False), "pipe": (pipe, False), "hold": (hold, False), "inq": (inq, False), "settle": (settle, False),
            "drain": (drain, False), "fill": (fill, False), "ask": (ask, True),
            "push": (push, True), "push2": (push2, True)}


def main():
    a = sys.argv
    if len(a) >= 4 and a[1] in COMMANDS:
        fn, takes_n = COMMANDS[a[1]]
        if not takes_n:
            return fn(a[2], int(a[3])) or 0
        if len(a) >= 5:
            return fn(a[2], int(a[3]), int(a[4])) or 0
    if len(a) >= 4 and a[1] == "client":
        opts = {"--count": "50", "--interval": "0", "--max-size": "20000"}
        for k, v in zip(a[4::2], a[5::2]):
            opts[k] = v
        return client(a[2], int(a[3]), int(opts["--count"]),
                      float(opts["--interval"]), int(opts["--max-size"]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
