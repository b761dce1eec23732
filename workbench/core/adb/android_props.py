"""`getprop` output -> properties, and the few that identify a phone (model, SoC, ABIs, Android level).

The device fingerprint in tuning profiles is built from these, so the picking order matters: vendors
fill different SoC properties (Pixel: ro.soc.model, Qualcomm boards: ro.board.platform, older
MediaTek: ro.hardware), and an emulator fills none of them usefully.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from workbench.core.adb.android_text import clip, lines

_PROP_START = re.compile(r"^\[([^\]]*)\]:\s*\[(.*)$")


@dataclass
class GetProp:
    """All properties of one `getprop` call plus the lines that could not be read."""

    values: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def get(self, *names: str) -> str | None:
        """The first of `names` with a non-empty value (vendors disagree on which one they fill)."""
        for name in names:
            v = self.values.get(name, "").strip()
            if v:
                return v
        return None


@dataclass
class AndroidIdentity:
    """What the workbench shows and fingerprints for a phone; None where the phone does not say."""

    model: str | None
    manufacturer: str | None
    soc: str | None
    abis: list[str]
    release: str | None
    sdk: int | None
    problems: list[str] = field(default_factory=list)


def parse_getprop(text: str) -> GetProp:
    """Parse `[name]: [value]` lines; a value may span lines until the line that ends with `]`."""
    out = GetProp()
    pending_name: str | None = None
    pending: list[str] = []
    for lineno, line in enumerate(lines(text), 1):
        line = line.rstrip("\r")
        if pending_name is not None:
            if line.endswith("]"):
                pending.append(line[:-1])
                out.values[pending_name] = "\n".join(pending)
                pending_name = None
            else:
                pending.append(line)
            continue
        m = _PROP_START.match(line)
        if m:
            name, rest = m.group(1), m.group(2)
            if rest.endswith("]"):
                out.values[name] = rest[:-1]
            else:
                pending_name, pending = name, [rest]
        elif line.strip():
            out.problems.append(f"getprop line {lineno}: not '[name]: [value]': {clip(line)}")
    if pending_name is not None:
        out.values[pending_name] = "\n".join(pending)
        out.problems.append(f"getprop: value of {pending_name} is not closed with ']'")
    return out


def android_identity(props: GetProp) -> AndroidIdentity:
    """Pick model, maker, SoC, ABI list, release and SDK level from parsed properties."""
    problems: list[str] = []
    soc_model = props.get("ro.soc.model")
    soc_maker = props.get("ro.soc.manufacturer")
    soc = soc_model or props.get("ro.board.platform", "ro.hardware.chipname", "ro.hardware")
    if soc_model and soc_maker and not soc_model.lower().startswith(soc_maker.lower()):
        soc = f"{soc_maker} {soc_model}"
    abilist = props.get("ro.product.cpu.abilist", "ro.system.product.cpu.abilist")
    if abilist:
        abis = [a.strip() for a in abilist.split(",") if a.strip()]
    else:
        abis = [a for a in (props.get("ro.product.cpu.abi"), props.get("ro.product.cpu.abi2")) if a]
    sdk_text = props.get("ro.build.version.sdk")
    sdk: int | None = None
    if sdk_text is not None:
        try:
            sdk = int(sdk_text)
        except ValueError:
            problems.append(f"ro.build.version.sdk is not a number: {clip(sdk_text)}")
    ident = AndroidIdentity(
        model=props.get("ro.product.model", "ro.product.vendor.model", "ro.product.system.model"),
        manufacturer=props.get("ro.product.manufacturer", "ro.product.vendor.manufacturer", "ro.product.brand"),
        soc=soc,
        abis=abis,
        release=props.get("ro.build.version.release_or_codename", "ro.build.version.release"),
        sdk=sdk,
        problems=problems,
    )
    for attr in ("model", "soc"):
        if getattr(ident, attr) is None:
            problems.append(f"getprop names no {attr}")
    if not abis:
        problems.append("getprop names no ABI")
    return ident
