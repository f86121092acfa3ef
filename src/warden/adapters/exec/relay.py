"""In-sandbox TCP -> unix-socket relay; runs as ``python -I -S relay.py SOCKET PORT -- CMD ARGS...``.

Standalone on purpose (stdlib only, no Warden import): it starts inside the sandbox before the
user's command, so it must be fast and must not depend on the workspace's import path.

It listens on 127.0.0.1:PORT inside the sandbox's private network namespace, then forks. The parent
``exec``s the command, which therefore keeps its place as the sandbox's main process (its exit
status and signals pass through unchanged). The child relays connections to the proxy's unix
socket and is killed by the kernel (PR_SET_PDEATHSIG) when the command exits. Nothing here is a
security boundary: the command can reach the unix socket directly; the proxy outside decides.
"""

import os
import socket
import sys
import threading


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def _serve_one(conn: socket.socket, path: str) -> None:
    up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        up.connect(path)
    except OSError:
        conn.close()
        up.close()
        return
    t = threading.Thread(target=_pipe, args=(up, conn), daemon=True)
    t.start()
    _pipe(conn, up)
    t.join()
    conn.close()
    up.close()


def _die_with_parent(parent: int) -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    if os.getppid() != parent:
        os._exit(0)


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        sys.stderr.write("usage: relay.py SOCKET PORT -- CMD [ARGS...]\n")
        return 125
    path, port, cmd = argv[0], int(argv[1]), argv[3:]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    parent = os.getpid()
    if os.fork() == 0:
        _die_with_parent(parent)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # do not hold the command's pipes open
            os.dup2(devnull, fd)
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=_serve_one, args=(conn, path), daemon=True).start()
    listener.close()
    try:
        os.execvp(cmd[0], cmd)
    except OSError as exc:
        sys.stderr.write(f"warden exec: cannot run {cmd[0]!r}: {exc.strerror}\n")
        return 127 if isinstance(exc, FileNotFoundError) else 126
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
