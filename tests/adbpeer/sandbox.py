"""The directory that stands for the device's file system, and its fake Android tools.

Only two device prefixes are backed by the sandbox: /data/local/tmp and /sdcard map to
<sandbox>/data/local/tmp and <sandbox>/sdcard, both in shell command text and in sync paths.
Every other absolute path is the host's own (so /proc and /sys are this VM's real ones) and is
read-only through sync. `getprop` and `dumpsys` are small shell scripts in <sandbox>/system/bin
(first on PATH) printing text captured from a real Android 13 phone, replaceable per test.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

WRITABLE_PREFIXES = ("/data/local/tmp", "/sdcard")

DEFAULT_PROPS: dict[str, str] = {
    "ro.product.name": "oriole",
    "ro.product.model": "Pixel 6",
    "ro.product.device": "oriole",
    "ro.product.brand": "google",
    "ro.product.manufacturer": "Google",
    "ro.product.cpu.abi": "arm64-v8a",
    "ro.product.cpu.abilist": "arm64-v8a,armeabi-v7a,armeabi",
    "ro.board.platform": "gs101",
    "ro.hardware": "oriole",
    "ro.soc.manufacturer": "Google",
    "ro.soc.model": "Tensor",
    "ro.build.version.release": "13",
    "ro.build.version.sdk": "33",
    "ro.build.id": "TQ3A.230805.001",
    "ro.build.fingerprint": "google/oriole/oriole:13/TQ3A.230805.001/10316531:user/release-keys",
    "ro.build.type": "user",
    "ro.serialno": "1A2B3C4D5E6F",
    "ro.adb.secure": "1",
    "sys.boot_completed": "1",
}

DEFAULT_DUMPSYS: dict[str, str] = {
    "battery": """Current Battery Service state:
  AC powered: false
  USB powered: true
  Wireless powered: false
  Max charging current: 500000
  Max charging voltage: 5000000
  Charge counter: 3334000
  status: 2
  health: 2
  present: true
  level: 78
  scale: 100
  voltage: 4178
  temperature: 291
  technology: Li-ion
""",
    "thermalservice": """IsStatusOverride: false
ThermalEventListeners:
\tcallbacks: 1
\tkilled: false
\tbroadcasts count: -1
ThermalStatusListeners:
\tcallbacks: 1
\tkilled: false
\tbroadcasts count: -1
Thermal Status: 0
Cached temperatures:
\tTemperature{mValue=29.1, mType=2, mName=battery, mStatus=0}
\tTemperature{mValue=38.6, mType=0, mName=BIG, mStatus=0}
\tTemperature{mValue=36.2, mType=0, mName=LITTLE, mStatus=0}
\tTemperature{mValue=37.4, mType=0, mName=MID, mStatus=0}
\tTemperature{mValue=33.0, mType=3, mName=skin, mStatus=0}
\tTemperature{mValue=35.9, mType=1, mName=G3D, mStatus=0}
\tTemperature{mValue=34.8, mType=9, mName=TPU, mStatus=0}
HAL Ready: true
HAL connection:
\tThermalHAL AIDL 1  connected: yes
Current temperatures from HAL:
\tTemperature{mValue=29.1, mType=2, mName=battery, mStatus=0}
\tTemperature{mValue=38.6, mType=0, mName=BIG, mStatus=0}
\tTemperature{mValue=36.2, mType=0, mName=LITTLE, mStatus=0}
\tTemperature{mValue=37.4, mType=0, mName=MID, mStatus=0}
\tTemperature{mValue=33.0, mType=3, mName=skin, mStatus=0}
\tTemperature{mValue=35.9, mType=1, mName=G3D, mStatus=0}
\tTemperature{mValue=34.8, mType=9, mName=TPU, mStatus=0}
Current cooling devices from HAL:
\tCoolingDevice{mValue=0, mType=2, mName=thermal-cpufreq-0}
\tCoolingDevice{mValue=0, mType=2, mName=thermal-cpufreq-1}
\tCoolingDevice{mValue=0, mType=2, mName=thermal-cpufreq-2}
\tCoolingDevice{mValue=0, mType=3, mName=thermal-gpufreq-0}
Temperature static thresholds from HAL:
\tTemperatureThreshold{mType=3, mName=skin, mHotThrottlingThresholds=[NaN, 39.0, 43.0, 45.0, 47.0, 50.0, 55.0], mColdThrottlingThresholds=[NaN, NaN, NaN, NaN, NaN, NaN, NaN]}
""",
}

_GETPROP = r"""#!/bin/sh
# Fake Android getprop: props live in one "key=value" file per device sandbox.
PROPS="@PROPS@"
if [ $# -eq 0 ]; then
  while IFS= read -r line; do
    printf '[%s]: [%s]\n' "${line%%=*}" "${line#*=}"
  done < "$PROPS"
  exit 0
fi
v=$(awk -v k="$1" 'index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }' "$PROPS")
if [ -z "$v" ]; then v="$2"; fi
printf '%s\n' "$v"
"""

_DUMPSYS = r"""#!/bin/sh
# Fake Android dumpsys: one captured text file per service.
DIR="@DIR@"
if [ $# -eq 0 ] || [ "$1" = "-l" ]; then
  echo "Currently running services:"
  for f in "$DIR"/*.txt; do n=${f##*/}; echo "  ${n%.txt}"; done
  exit 0
fi
if [ -f "$DIR/$1.txt" ]; then cat "$DIR/$1.txt"; exit 0; fi
echo "Can't find service: $1" >&2
exit 0
"""


class Sandbox:
    """A device file system rooted at `root`, with the device-to-host path mapping in one place."""

    def __init__(self, root: Path, props: dict[str, str] | None = None, dumpsys: dict[str, str] | None = None) -> None:
        self.root = Path(root).resolve()
        self.bin = self.root / "system" / "bin"
        self._etc = self.root / ".peer"
        for sub in ("data/local/tmp", "sdcard", "system/bin", ".peer/dumpsys"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.set_props({**DEFAULT_PROPS, **(props or {})})
        self.set_dumpsys({**DEFAULT_DUMPSYS, **(dumpsys or {})})
        self._tool("getprop", _GETPROP.replace("@PROPS@", str(self._etc / "props")))
        self._tool("dumpsys", _DUMPSYS.replace("@DIR@", str(self._etc / "dumpsys")))

    def _tool(self, name: str, text: str) -> None:
        path = self.bin / name
        path.write_text(text)
        path.chmod(0o755)

    def set_props(self, props: dict[str, str]) -> None:
        """Replace what `getprop` prints (tests change this to mimic other phones)."""
        self.props = dict(props)
        (self._etc / "props").write_text("".join(f"{k}={v}\n" for k, v in sorted(props.items())))

    def set_dumpsys(self, services: dict[str, str]) -> None:
        """Replace the captured `dumpsys SERVICE` texts."""
        out = self._etc / "dumpsys"
        for old in out.glob("*.txt"):
            old.unlink()
        for name, text in services.items():
            (out / f"{name}.txt").write_text(text)

    def host_path(self, device_path: str) -> tuple[Path, bool]:
        """Where a device path lives on this host, and whether the device user may write there."""
        norm = os.path.normpath("/" + device_path.lstrip("/")) if device_path.startswith("/") else device_path
        for prefix in WRITABLE_PREFIXES:
            if norm == prefix or norm.startswith(prefix + "/"):
                return self.root / norm.lstrip("/"), True
        if not norm.startswith("/"):
            return self.root / "data/local/tmp" / norm, True  # relative sync paths: adbd's cwd is irrelevant, be safe
        return Path(norm), False

    def rewrite_command(self, command: str) -> str:
        """Point device paths in shell text at the sandbox (a textual rewrite, like a bind mount would)."""
        pattern = "|".join(re.escape(p) for p in WRITABLE_PREFIXES)
        return re.sub(rf"(?<![\w/.-])({pattern})(?=$|[/\s'\";|&)<>])", lambda m: str(self.root) + m.group(1), command)

    def env(self) -> dict[str, str]:
        """A shell environment resembling adbd's: toolbox first on PATH, TMPDIR in /data/local/tmp."""
        tmp = str(self.root / "data/local/tmp")
        return {
            "PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.root),
            "TMPDIR": tmp,
            "SHELL": "/bin/sh",
            "ANDROID_DATA": str(self.root / "data"),
            "LANG": "C.UTF-8",
        }
