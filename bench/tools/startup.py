#!/usr/bin/python3
"""Start-up time and idle RSS of syncrun: startup.py SYNCRUN DB PORT [RUNS]
Start-up = from spawning `syncrun serve` until GET /healthz answers 200 (polled over a raw socket
every millisecond); idle RSS = VmRSS one second after that, with its RssAnon and RssFile. Prints
medians:
    startup_ms=… idle_rss_kb=… idle_anon_kb=… idle_file_kb=… (all: …)"""
import socket
import statistics
import subprocess
import sys
import time


def healthy(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def main():
    binary, db, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    times, rss, anon, file = [], [], [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.Popen([binary, "serve", "--db", db, "--listen", f"127.0.0.1:{port}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while not healthy(port):
                if p.poll() is not None or time.perf_counter() - t0 > 30:
                    sys.exit("startup.py: syncrun serve did not come up")
                time.sleep(0.001)
            times.append((time.perf_counter() - t0) * 1000)
            time.sleep(1)
            with open(f"/proc/{p.pid}/status") as f:
                status = {l.split(":")[0]: l.split()[1] for l in f if l.startswith(("VmRSS:", "RssAnon:", "RssFile:"))}
            rss.append(int(status["VmRSS"]))
            anon.append(int(status["RssAnon"]))
            file.append(int(status["RssFile"]))
        finally:
            p.terminate()
            p.wait(10)
    print(f"startup_ms={statistics.median(times):.1f} idle_rss_kb={int(statistics.median(rss))} "
          f"idle_anon_kb={int(statistics.median(anon))} idle_file_kb={int(statistics.median(file))} "
          f"(all: {' '.join(f'{t:.1f}' for t in times)} ms)")


if __name__ == "__main__":
    main()
