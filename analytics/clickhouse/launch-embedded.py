"""Runs ClickHouse from libchdb.so as a real HTTP server until its stdin closes or it gets SIGTERM.

libchdb.so is ClickHouse itself; its `chdb_query_cmdline` entry runs `clickhouse local`, whose
`SYSTEM START LISTEN HTTP` opens an HTTP listener. The second statement only keeps the server alive:
it blocks reading a pipe that we close once our stdin (when it is a pipe) reaches EOF, i.e. when the
gateway that started us stops or dies, or on SIGTERM or SIGINT (a detached server, as `ai-gateway
cluster` runs it, has no stdin to watch). ClickHouse then shuts down cleanly.

It is called from Python's main thread because ClickHouse checks its stack bounds, which Node FFI
libraries (running calls on their own stacks) fail.

usage: launch-embedded.py LIBCHDB_PATH DATA_DIR HTTP_PORT CONFIG_FILE

CONFIG_FILE is a config.xml naming the users.xml that holds ClickHouse's users: without one,
clickhouse local knows only its built-in `default` user.
"""

import ctypes
import os
import signal
import stat
import sys
import threading


def main() -> int:
    lib_path, data_dir, port, config_file = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    lib = ctypes.CDLL(lib_path)
    lib.chdb_query_cmdline.restype = ctypes.c_void_p
    lib.chdb_result_error.restype = ctypes.c_char_p
    lib.chdb_result_error.argtypes = [ctypes.c_void_p]

    keep_alive_read, keep_alive_write = os.pipe()
    closing = threading.Lock()

    def stop_serving() -> None:
        # Stdin's EOF and a signal may both come: the pipe is closed once.
        if closing.acquire(blocking=False):
            os.close(keep_alive_write)

    def close_when_parent_leaves() -> None:
        while sys.stdin.buffer.read(65536):
            pass
        stop_serving()

    def close_on_signal() -> None:
        signal.sigwait(stop_signals)
        stop_serving()

    # Blocked before ClickHouse starts its threads, which inherit the mask: a stop signal is taken
    # only by the thread waiting for it, never by ClickHouse or Python's default handler.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    threading.Thread(target=close_on_signal, daemon=True).start()
    stdin_mode = os.fstat(sys.stdin.fileno()).st_mode
    if stat.S_ISFIFO(stdin_mode) or stat.S_ISSOCK(stdin_mode):
        threading.Thread(target=close_when_parent_leaves, daemon=True).start()

    args = [
        "clickhouse",
        f"--path={data_dir}",
        f"--config-file={config_file}",
        f"--http_port={port}",
        "--listen_host=127.0.0.1",
        "--multiquery",
        "--query=SYSTEM START LISTEN HTTP; "
        f"SELECT count() FROM file('/dev/fd/{keep_alive_read}', 'LineAsString') FORMAT Null",
    ]
    argv = (ctypes.c_char_p * len(args))(*[arg.encode() for arg in args])
    result = lib.chdb_query_cmdline(len(args), argv)
    error = lib.chdb_result_error(result) if result else b"chdb_query_cmdline returned no result"
    if error:
        sys.stderr.write(error.decode(errors="replace") + "\n")
        return 1
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    # os._exit: the watcher thread may still hold stdin, which a normal interpreter exit would wait on.
    os._exit(code)
