#!/usr/bin/python3
"""Peak RSS of a process tree: rss.py ROOT_PID SECONDS [INTERVAL] -> prints "TOTAL ANON FILE", peak
kB of the sums over ROOT_PID and all its descendants of VmRSS, of RssAnon (anonymous memory: heap,
stacks, caches the process built) and of RssFile (mapped file pages: the database, the binary and its
libraries; shared with the page cache and reclaimable), from /proc/PID/status, sampled every INTERVAL
seconds (default 0.1). Each is its own peak (they need not come from the same sample). SIGTERM ends
the sampling early (the peaks so far are printed), so a caller stops it when its load ends."""
import os
import signal
import sys
import time


def tree(root):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


FIELDS = ("VmRSS:", "RssAnon:", "RssFile:")


def rss_kb(pid):
    out = [0, 0, 0]
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                for i, name in enumerate(FIELDS):
                    if line.startswith(name):
                        out[i] = int(line.split()[1])
    except OSError:
        pass
    return out


def main():
    root, seconds = int(sys.argv[1]), float(sys.argv[2])
    interval = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
    end = time.monotonic() + seconds
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    peak, pids, refreshed = [0, 0, 0], tree(root), time.monotonic()
    while not stop:
        if time.monotonic() - refreshed > 1:
            pids, refreshed = tree(root), time.monotonic()
        sums = [sum(col) for col in zip(*(rss_kb(p) for p in pids))] if pids else [0, 0, 0]
        peak = [max(a, b) for a, b in zip(peak, sums)]
        if time.monotonic() >= end:
            break
        try:
            time.sleep(interval)
        except InterruptedError:
            pass
    print(*peak)


if __name__ == "__main__":
    main()
