"""Push 32 MB to the adbd test peer three ways and print MB/s: our ServerLink, our DirectLink, `adb push`.

ServerLink and `adb push` go through the same private Debian adb server (own port, own HOME, our
child process); DirectLink talks to the same peer over its own TCP connection (our reader/writer
threads and sync code; adb-shell only for the CNXN/AUTH handshake). Run: python bench/adb_push.py [--mb 32] [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.adbpeer import AdbPeer, PeerConfig  # noqa: E402
from tests.adbpeer.adb_server import AdbServer  # noqa: E402
from workbench.core.adb.direct import DirectLink  # noqa: E402
from workbench.core.adb.server import ServerClient  # noqa: E402


def _best_mbps(fn, size: int, repeat: int) -> tuple[float, float]:
    rates = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        rates.append(size / (time.perf_counter() - t0) / 1e6)
    return max(rates), statistics.median(rates)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mb", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3)
    ns = ap.parse_args()
    size = ns.mb * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="adbbench-") as tmp:
        tmpd = Path(tmp)
        src = tmpd / "payload.bin"
        src.write_bytes(os.urandom(size))
        peer = AdbPeer(tmpd / "device", PeerConfig()).start()
        server = AdbServer(tmpd / "home").start()
        try:
            client = ServerClient(port=server.port)
            client.connect("127.0.0.1", peer.port)
            if server.wait_state(peer.serial, "device") != "device":
                raise SystemExit("adb server did not get the peer online")
            slink = client.link(peer.serial)
            dlink = DirectLink.tcp("127.0.0.1", peer.port, key_path=tmpd / "keys" / "adbkey")
            remote = "/data/local/tmp/bench.bin"

            def adb_push() -> None:
                out = server.adb("-s", peer.serial, "push", str(src), remote, timeout=300)
                if out.returncode:
                    raise SystemExit(out.stderr.decode())

            results = {
                "adb push (Debian adb 29, via server)": _best_mbps(adb_push, size, ns.repeat),
                "ServerLink.push (ours, via server)": _best_mbps(lambda: slink.push(src, remote), size, ns.repeat),
                "DirectLink.push (ours, TCP)": _best_mbps(lambda: dlink.push(src, remote), size, ns.repeat),
            }
            dlink.close()
            server.adb("disconnect", peer.serial)
        finally:
            server.stop()
            peer.stop()
            peer.reap()
    ref = results["adb push (Debian adb 29, via server)"][0]
    print(f"push {ns.mb} MB to the adbd peer on loopback, best / median of {ns.repeat} (MB/s, 1 MB = 1e6 B)")
    for name, (best, med) in results.items():
        print(f"  {name:40s} {best:8.1f} {med:8.1f}   ours/adb = {best / ref:5.2f}")


if __name__ == "__main__":
    main()
