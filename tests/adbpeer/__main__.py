"""Serve a peer until Ctrl-C: `python -m tests.adbpeer --port 40555 [--legacy] [--no-auth] [--deny]`."""
from __future__ import annotations

import argparse
import tempfile
import threading

from tests.adbpeer.peer import AdbPeer, PeerConfig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=0, help="TCP port (default: a free one outside 5555-5585)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--sandbox", help="directory standing for the device (default: a temporary one)")
    ap.add_argument("--legacy", action="store_true", help="old adbd: no features, PTY shells, no exit codes")
    ap.add_argument("--no-auth", action="store_true", help="ro.adb.secure=0: no AUTH handshake")
    ap.add_argument("--deny", action="store_true", help="never accept new keys (stays unauthorized)")
    ns = ap.parse_args()
    cfg = PeerConfig(host=ns.host, port=ns.port, legacy=ns.legacy, auth_required=not ns.no_auth,
                     accept_new_keys=not ns.deny)
    with tempfile.TemporaryDirectory(prefix="adbpeer-") as tmp:
        peer = AdbPeer(ns.sandbox or tmp, cfg).start()
        print(f"adbpeer serving {peer.serial} sandbox={peer.sandbox.root} (Ctrl-C stops)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            peer.stop()
            peer.reap()


if __name__ == "__main__":
    main()
