"""The user's adb key pair (~/.android/adbkey), shared with the adb tool so phones trust us once.

Reusing adb's key means a phone that already allowed this computer lets the workbench in without a
new "Allow USB debugging?" prompt. A missing key is created the way adb does (2048-bit RSA, private
file readable by the user only).
"""
from __future__ import annotations

import os
from pathlib import Path

from workbench.core.errors import WorkbenchError


def adb_key_path() -> Path:
    """$ANDROID_USER_HOME/adbkey, else ~/.android/adbkey (adb's own lookup order)."""
    home = os.environ.get("ANDROID_USER_HOME")
    return Path(home) / "adbkey" if home else Path.home() / ".android" / "adbkey"


def load_signer(path: Path | None = None):  # -> adb_shell CryptographySigner
    """Load (creating if absent, 0600) the private key and its Android-format .pub next to it."""
    from adb_shell.auth.keygen import keygen, write_public_keyfile
    from adb_shell.auth.sign_cryptography import CryptographySigner

    path = Path(path) if path is not None else adb_key_path()
    try:
        if not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            old = os.umask(0o077)
            try:
                keygen(str(path))
            finally:
                os.umask(old)
            path.chmod(0o600)
        elif not Path(str(path) + ".pub").exists():
            write_public_keyfile(str(path), str(path) + ".pub")
        return CryptographySigner(str(path))
    except (OSError, ValueError) as exc:
        raise WorkbenchError(f"{path}: cannot use this adb key ({exc})") from exc
