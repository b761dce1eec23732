"""Pure parts of core/adb: devices-l parsing, shell_v2 framing, banners, remembered targets, keys."""
from __future__ import annotations

import stat

import pytest

from workbench.core.adb import remembered, shellproto
from workbench.core.adb.direct import parse_banner
from workbench.core.adb.keys import load_signer
from workbench.core.adb.server import parse_devices_l
from workbench.core.errors import WorkbenchError
from workbench.core.types import DeviceState

DEVICES_L = """List of devices attached
0A141FDD4002JN         device usb:1-4 product:oriole model:Pixel_6 device:oriole transport_id:3
emulator-5554          offline transport_id:1
192.168.1.20:5555      unauthorized transport_id:4
1234567890ABCDEF       no permissions (missing udev rules? user is in the plugdev group); see [http://developer.android.com/tools/device.html] usb:1-2 transport_id:5
"""


def test_devices_l_states_and_details() -> None:
    devs = parse_devices_l(DEVICES_L)
    assert [d.serial for d in devs] == ["0A141FDD4002JN", "emulator-5554", "192.168.1.20:5555", "1234567890ABCDEF"]
    assert [d.state for d in devs] == [DeviceState.DEVICE, DeviceState.OFFLINE, DeviceState.UNAUTHORIZED,
                                       DeviceState.NO_PERMISSIONS]
    assert devs[0].details["model"] == "Pixel_6" and devs[0].details["usb"] == "1-4"
    assert "udev" in devs[3].details["reason"] and devs[3].details["transport_id"] == "5"


def test_shell_v2_decoder_reassembles_split_packets() -> None:
    raw = shellproto.encode(1, b"out\n") + shellproto.encode(2, b"err") + shellproto.encode(3, b"\x07")
    dec = shellproto.ShellV2Decoder()
    got = []
    for i in range(len(raw)):
        got += dec.feed(raw[i:i + 1])
    assert got == [(1, b"out\n"), (2, b"err"), (3, b"\x07")] and dec.pending == 0


def test_pty_line_splitter_strips_crlf_across_chunks() -> None:
    sp = shellproto.LineSplitter(pty=True)
    assert sp.feed("a\r") == [] and sp.feed("\nb\r\nc") == ["a", "b"] and sp.flush() == ["c"]


def test_banner_features() -> None:
    kind, props, feats = parse_banner(b"device::ro.product.name=x;ro.product.model=M;features=shell_v2,cmd\0")
    assert kind == "device" and props["ro.product.model"] == "M" and feats == {"shell_v2", "cmd"}
    assert parse_banner(b"device::ro.product.name=x;")[2] == frozenset()


def test_remembered_round_trip_and_bad_file(tmp_path) -> None:
    path = tmp_path / "targets.json"
    remembered.remember("10.0.0.5", 5555, path)
    remembered.remember("10.0.0.5", 5555, path)
    remembered.remember("10.0.0.6", 40000, path)
    assert [t.serial for t in remembered.load(path)] == ["10.0.0.5:5555", "10.0.0.6:40000"]
    assert [t.serial for t in remembered.forget("10.0.0.5", 5555, path)] == ["10.0.0.6:40000"]
    path.write_text("{not json")
    with pytest.raises(WorkbenchError, match="targets.json"):
        remembered.load(path)


def test_key_created_private_and_reused(tmp_path) -> None:
    key = tmp_path / "android" / "adbkey"
    first = load_signer(key)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert load_signer(key).GetPublicKey() == first.GetPublicKey()
