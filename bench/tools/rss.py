#!/usr/bin/python3
"""Peak RSS of a process tree: rss.py ROOT_PID SECONDS [INTERVAL] -> prints peak kB (sum of VmRSS
over ROOT_PID and all its descendants, sampled every INTERVAL seconds, default 0.1)."""
import os
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


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    root, seconds = int(sys.argv[1]), float(sys.argv[2])
    interval = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
    end = time.monotonic() + seconds
    peak, pids, refreshed = 0, tree(root), time.monotonic()
    while True:
        if time.monotonic() - refreshed > 1:
            pids, refreshed = tree(root), time.monotonic()
        peak = max(peak, sum(rss_kb(p) for p in pids))
        if time.monotonic() >= end:
            break
        time.sleep(interval)
    print(peak)


if __name__ == "__main__":
    main()
