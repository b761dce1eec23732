"""Device.channel_specs(): the chart layout before a run, with nothing left running on the device.

`telemetry(rate).channels()` on an adb device starts the on-device sampler loop (it has to, to read its
header); the GUI used to call it on every device selection and never stop it: over direct TCP each call
left an adbd connection open, and the loop ended only if CPython happened to finalize the dropped stream.
"""
from __future__ import annotations

import threading

from tests.adb_device.conftest import wait_no_process
from tests.adbpeer.peer import AdbPeer
from workbench.core.adb.device import AdbDevice
from workbench.core.devices.base import Device
from workbench.core.devices.local import LocalDevice


def _sampler_sessions(peer: AdbPeer) -> list:
    return [s for s in peer.sessions if "sampler-" in s.command]


def _sampler_marker(peer: AdbPeer) -> str:
    """What the command line of a sampler shell on this peer contains (its script lives in the sandbox)."""
    return str(peer.sandbox.root / "data/local/tmp/workbench/bin/sampler-")


def test_adb_channel_specs_leaves_no_sampler_and_reads_the_header_once(phone) -> None:
    peer, dev = phone
    connections = peer.online_connections()
    specs = dev.channel_specs()
    assert peer.online_connections() == connections  # no connection of its own, none left open
    keys = {c.key for c in specs}
    assert {"cpu.load.all", "mem.runner.rss", "thermal.status"} <= keys
    started = _sampler_sessions(peer)
    assert len(started) == 1
    assert started[0].proc.wait(timeout=10) is not None and started[0].hung_up
    wait_no_process(_sampler_marker(peer))
    assert [c.key for c in dev.channel_specs()] == [c.key for c in specs]
    assert len(_sampler_sessions(peer)) == 1  # same link: the header is not read again


def test_default_channel_specs_stops_the_source_it_opened(phone) -> None:
    peer, dev = phone
    assert isinstance(dev, AdbDevice)
    connections = peer.online_connections()
    specs = Device.channel_specs(dev)  # the base-class default: telemetry(), channels(), stop()
    assert peer.online_connections() == connections
    assert {"cpu.load.all", "thermal.status"} <= {c.key for c in specs}
    assert len(_sampler_sessions(peer)) == 1
    wait_no_process(_sampler_marker(peer))


def test_telemetry_channels_alone_keeps_the_loop_running(phone) -> None:
    """Why channel_specs exists: the source's channels() starts the loop, and only stop() ends it."""
    peer, dev = phone
    source = dev.telemetry(10.0)
    source.channels()
    try:
        (session,) = _sampler_sessions(peer)
        assert session.proc.poll() is None and not session.hung_up
    finally:
        source.stop()
    wait_no_process(_sampler_marker(peer))


def test_local_channel_specs_match_its_telemetry_without_a_thread() -> None:
    dev = LocalDevice()
    assert [c.key for c in dev.channel_specs()] == [c.key for c in dev.telemetry(10.0).channels()]
    assert [c.key for c in Device.channel_specs(dev)] == [c.key for c in dev.channel_specs()]
    assert not [t for t in threading.enumerate() if t.name == "probe-sampler"]
