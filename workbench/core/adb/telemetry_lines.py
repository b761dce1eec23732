"""Host side of the on-device sampler: header + tick lines -> ChannelSpec list and Sample objects.

The line format is documented in `sampler_script`. Channel keys follow the local probes
(`cpu.load.<i>`, `cpu.load.all`, `cpu.freq.<policy n>`, `thermal.<zone type>`, `mem.runner.rss`), so a
phone and the local machine chart and compare on the same keys. Device-only channels:
`power.battery` (W, discharge positive) with `power.battery.external` (1 while a charger is online
or the status says Charging/Full/Not charging: battery power is then net of the charger), `power.rail.<rail>` (W
from ODPM energy meters), `thermal.status` (Android thermal status level 0..6) and
`thermal.hal.<name>` (C, temperatures from the thermal HAL). Power channels follow the additivity
rule in `telemetry/power.py`: the rails add up among themselves, the battery contains them all.

One Sample per `S` tick, never one per `E` (ODPM), `T` (thermal status) or `P` (runner PSS/USS)
line: those come every K ticks (T from a background dumpsys, so possibly after later S lines), and a Sample holding only their
keys would be "the latest sample" for consumers that read one (the cooldown gate, a run's end
temperature) while lacking every tick channel, and a row of gaps in the charts. Their values are kept
pending and merged into the first S tick parsed after them; the sample's `t` is that tick's time, so
an E value is at most one period older than its sample and a T value one period plus the dumpsys time
(both are averages/levels over about a second anyway). A newer E/T reading of the same key replaces a
pending one; what is pending when the stream ends is dropped. P lines are printed right before their
S line, so PSS/USS ride on the tick they were read at. `mem.runner.pss`/`.uss` are announced when the
header says the kernel has smaps_rollup; a runner whose file is denied (SELinux) gets one problem and
no values, a runner not started yet or gone gets neither.

Unit and sign decisions that need more than one reading are sticky for the life of the parser: the
thermal scale per zone (from its first non-zero value), the battery current unit (µA once any value
is µA-sized) and the discharge sign (learned from the first "Discharging" tick with a charger off).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from workbench.core.adb.android_dumpsys import parse_thermalservice
from workbench.core.adb.android_power import OdpmReading, parse_odpm, rail_power_w
from workbench.core.adb.android_sysfs import parse_cpu_list
from workbench.core.adb.android_text import clip, is_uint, to_float, to_int
from workbench.core.telemetry.battery import BatteryMeter
from workbench.core.telemetry.procstat import CpuTimes, cpu_load
from workbench.core.telemetry.sysfs import slug, unique
from workbench.core.telemetry.thermal_scale import ZoneScale
from workbench.core.types import ChannelSpec, Sample

MAX_PROBLEMS = 50
_STATUS_WORDS = {"C": "Charging", "D": "Discharging", "F": "Full", "N": "Not charging", "U": "Unknown"}
_SECTIONS = ("c", "f", "t", "b", "m")


@dataclass
class SamplerHeader:
    """What the script found on the device, in the order its tick lines carry the values."""

    version: int | None = None
    config: dict[str, str] = field(default_factory=dict)
    stat: bool = False
    cpus: list[int] = field(default_factory=list)
    freq_keys: list[str] = field(default_factory=list)
    zone_keys: list[str] = field(default_factory=list)
    zone_scales: list[ZoneScale] = field(default_factory=list)  # sticky per zone, from its first non-zero value
    battery: str | None = None
    plugs: list[str] = field(default_factory=list)
    page_kb: int | None = None
    pss: bool = False  # the kernel has smaps_rollup: runner PSS/USS come in P lines
    odpm: dict[int, list[str]] = field(default_factory=dict)  # meter index -> rail names
    hal_keys: dict[str, str] = field(default_factory=dict)  # HAL sensor name -> channel key
    thermal_status: bool = False
    complete: bool = False


class SamplerLineParser:
    """Feed it the script's stdout line by line; `feed` returns a Sample for each data line.

    Never raises: unreadable lines are counted in `problems` (first MAX_PROBLEMS kept) and skipped.
    """

    def __init__(self, current_unit: str | None = None, discharge_sign: int | None = None) -> None:
        self.header = SamplerHeader()
        self.channels: list[ChannelSpec] = []
        self.problems: list[str] = []
        self.dropped_problems = 0
        self.battery_meter = BatteryMeter(current_unit, discharge_sign)
        self._taken: set[str] = set()
        self._prev_cpu: dict[str, CpuTimes] = {}
        self._prev_odpm: dict[int, OdpmReading] = {}
        self._rail_keys: dict[str, str] = {}
        self._pending: dict[str, float] = {}  # E/T/P values waiting for the next S tick
        self._pss_denied = False  # one problem for a denied smaps_rollup, not one per reading

    @property
    def current_unit(self) -> str | None:
        return self.battery_meter.current_unit

    @property
    def discharge_sign(self) -> int | None:
        return self.battery_meter.discharge_sign

    @property
    def header_complete(self) -> bool:
        return self.header.complete

    def feed_text(self, text: str) -> list[Sample]:
        """Every Sample in a chunk of output (several lines)."""
        out: list[Sample] = []
        for line in text.split("\n"):
            s = self.feed(line)
            if s is not None:
                out.append(s)
        return out

    def feed(self, line: str) -> Sample | None:
        """The Sample of an S line (with any pending E/T values merged in); None for every other line."""
        line = line.strip()
        if not line:
            return None
        tag = line[:2]
        try:
            if tag == "H ":
                self._header_line(line[2:].strip())
                return None
            if not self.header.complete:
                self._problem(f"sampler: data before 'H end': {clip(line)}")
                return None
            if tag == "S ":
                return self._tick(line.split())
            if tag == "E ":
                self._pending.update(self._energy(line))
                return None
            if tag == "T ":
                self._pending.update(self._thermal_status(line))
                return None
            if tag == "P ":
                self._pending.update(self._runner_pss(line))
                return None
        except (ValueError, IndexError, KeyError, ZeroDivisionError, OverflowError) as exc:
            self._problem(f"sampler: unreadable line ({type(exc).__name__}): {clip(line)}")
            return None
        self._problem(f"sampler: unknown line: {clip(line)}")
        return None

    # -- header -----------------------------------------------------------------------------------

    def _header_line(self, body: str) -> None:
        h = self.header
        if h.complete:
            return
        word, _, rest = body.partition(" ")
        args = rest.split()
        if word == "wb-sampler":
            h.version = to_int(rest)
        elif word == "cfg":
            h.config = dict(a.split("=", 1) for a in args if "=" in a)
        elif word == "stat":
            h.stat = True
        elif word == "cpus":
            h.cpus = parse_cpu_list(rest)
        elif word == "freq" and args:
            n = args[0].removeprefix("policy").removeprefix("cpu")
            key = self._add(f"cpu.freq.{slug(n, args[0])}", "MHz", "cpu_freq",
                            f"{args[0]} (cpus {' '.join(args[1:])})" if len(args) > 1 else args[0])
            h.freq_keys.append(key)
        elif word == "tz" and len(args) >= 2:
            zone, raw = f"thermal_zone{args[0]}", to_int(args[1])
            ztype = " ".join(args[2:])
            key = self._add(f"thermal.{slug(ztype, zone)}", "C", "thermal", f"{ztype or zone} ({zone})")
            h.zone_keys.append(key)
            h.zone_scales.append(ZoneScale())
            if raw is not None:
                h.zone_scales[-1].celsius(raw)  # the header's first reading decides the scale
        elif word == "bat" and args:
            h.battery = args[0]
        elif word == "plug" and args:
            h.plugs.append(args[0])
        elif word == "mem":
            h.page_kb = to_int(rest) or 4
        elif word == "pss":
            h.pss = True
        elif word == "odpm" and args and is_uint(args[0]):
            h.odpm[int(args[0])] = args[1:]
            for rail in args[1:]:
                self._rail_keys[rail] = self._add(f"power.rail.{slug(rail, 'rail')}", "W", "power", f"rail {rail}")
        elif word == "ts":
            h.thermal_status = True
            ts = parse_thermalservice(rest.replace("|", "\n"))
            for t in ts.temperatures:
                h.hal_keys[t.name] = f"thermal.hal.{slug(t.name, 'sensor')}"
        elif word == "end":
            self._finish_header()
        else:
            self._problem(f"sampler: unknown header line: {clip(body)}")

    def _finish_header(self) -> None:
        h = self.header
        h.complete = True
        if h.version != 1:
            self._problem(f"sampler: format version {h.version} (this parser reads 1)")
        specs: list[ChannelSpec] = []
        if h.stat:
            specs += [ChannelSpec(f"cpu.load.{i}", "%", "cpu_load", f"cpu{i}") for i in h.cpus]
            specs.append(ChannelSpec("cpu.load.all", "%", "cpu_load", "all cores"))
        self._taken.update(s.key for s in specs)
        if h.battery:
            self._add("power.battery", "W", "power", f"battery {h.battery} (discharge +)")
            self._add("power.battery.external", "flag", "power_state", "charging / on external power")
        if h.page_kb is not None:
            self._add("mem.runner.rss", "MB", "memory", "runner RSS")
        if h.pss:
            self._add("mem.runner.pss", "MB", "memory", "runner PSS")
            self._add("mem.runner.uss", "MB", "memory", "runner USS (private clean + dirty)")
        if h.thermal_status:
            self._add("thermal.status", "level", "thermal_status", "Android thermal status (0 none .. 6 shutdown)")
            for name, key in list(h.hal_keys.items()):
                h.hal_keys[name] = self._add(key, "C", "thermal", f"{name} (thermal HAL)")
        self.channels = specs + self.channels

    def _add(self, key: str, unit: str, group: str, label: str) -> str:
        key = unique(key, self._taken)
        self.channels.append(ChannelSpec(key, unit, group, label))
        return key

    # -- data -------------------------------------------------------------------------------------

    def _tick(self, tokens: list[str]) -> Sample | None:
        t = to_float(tokens[1])
        if t is None:
            self._problem(f"sampler: bad timestamp {clip(tokens[1])}")
            return None
        sections: dict[str, list[str]] = {}
        current: list[str] | None = None
        for tok in tokens[2:]:
            if tok in _SECTIONS:
                current = sections.setdefault(tok, [])
            elif current is not None:
                current.append(tok)
        values = dict(self._pending)  # cleared only once this tick parsed: a bad line keeps them pending
        if "c" in sections:
            self._cpu(sections["c"], values)
        self._ordered(sections.get("f", []), self.header.freq_keys, values, lambda raw, i: raw / 1000.0)
        self._ordered(sections.get("t", []), self.header.zone_keys, values, self._zone_c)
        if "b" in sections and self.header.battery:
            self._battery(sections["b"], values)
        m = sections.get("m", [])
        if m and is_uint(m[0]) and int(m[0]) > 0 and self.header.page_kb:
            # a zombie (exited, not yet reaped) reads all zeros: no reading, not "0 MB"
            values["mem.runner.rss"] = int(m[0]) * self.header.page_kb / 1024.0
        self._pending.clear()
        return Sample(t=t, values=values)

    def _cpu(self, toks: list[str], values: dict[str, float]) -> None:
        cur: dict[str, CpuTimes] = {}
        for tok in toks:
            name, _, nums = tok.partition(":")
            fields = [int(x) if is_uint(x) else 0 for x in nums.split(",")]
            if len(fields) >= 4 and (name == "a" or is_uint(name)):
                cur[name] = CpuTimes.from_fields(fields)
        for name, pct in cpu_load(self._prev_cpu, cur).items():
            values["cpu.load.all" if name == "a" else f"cpu.load.{name}"] = pct
        self._prev_cpu = cur

    def _ordered(self, toks: list[str], keys: list[str], values: dict[str, float], conv) -> None:  # noqa: ANN001
        if toks and len(toks) != len(keys):
            self._problem(f"sampler: {len(toks)} values for {len(keys)} channels")
        for i, (tok, key) in enumerate(zip(toks, keys)):
            raw = to_int(tok) if tok != "-" else None
            if raw is not None:
                v = conv(raw, i)
                if v is not None:
                    values[key] = v

    def _zone_c(self, raw: int, i: int) -> float | None:
        return self.header.zone_scales[i].celsius(raw)

    def _battery(self, toks: list[str], values: dict[str, float]) -> None:
        toks = (toks + ["-"] * 4)[:4]
        cur, volt = to_int(toks[0]), to_int(toks[1])
        status = _STATUS_WORDS.get(toks[2], "Unknown")
        bp = self.battery_meter.read(cur, volt, status, plugged="1" in toks[3])
        if bp.watts is not None:
            values["power.battery"] = bp.watts
        values["power.battery.external"] = 1.0 if bp.plugged else 0.0

    def _energy(self, line: str) -> dict[str, float]:
        """Rail watts between this meter reading and its previous one (empty on the first)."""
        _, up, idx, *rest = line.split(" ", 3)
        t = to_float(up)
        if t is None or not is_uint(idx):
            self._problem(f"sampler: bad E line: {clip(line)}")
            return {}
        reading = parse_odpm((rest[0] if rest else "").replace("|", "\n"))
        prev = self._prev_odpm.get(int(idx))
        self._prev_odpm[int(idx)] = reading
        values: dict[str, float] = {}
        if prev is not None:
            for rail, w in rail_power_w(prev, reading).items():
                key = self._rail_keys.get(rail)
                if key is not None:
                    values[key] = w
        return values

    def _thermal_status(self, line: str) -> dict[str, float]:
        """Thermal status level and HAL temperatures of one dumpsys reading."""
        _, up, *rest = line.split(" ", 2)
        t = to_float(up)
        if t is None:
            self._problem(f"sampler: bad T line: {clip(line)}")
            return {}
        ts = parse_thermalservice((rest[0] if rest else "").replace("|", "\n"))
        values: dict[str, float] = {}
        if ts.status is not None:
            values["thermal.status"] = float(ts.status)
        for temp in ts.temperatures:
            key = self.header.hal_keys.get(temp.name)
            if key is not None:
                values[key] = temp.value_c
        return values

    def _runner_pss(self, line: str) -> dict[str, float]:
        """PSS and USS (MB) of one smaps_rollup reading; a denied reading is one problem, then silence."""
        toks = line.split()
        if len(toks) < 3 or to_float(toks[1]) is None:
            self._problem(f"sampler: bad P line: {clip(line)}")
            return {}
        if toks[2] == "-":
            if not self._pss_denied:
                self._pss_denied = True
                pid = toks[3] if len(toks) > 3 else "<pid>"
                self._problem(f"sampler: /proc/{pid}/smaps_rollup of the runner is not readable "
                              "(SELinux or no ptrace rights): no runner PSS/USS")
            return {}
        if not self.header.pss:
            return {}
        nums = [int(x) if is_uint(x) else None for x in (toks[2:] + ["-", "-"])[:3]]
        if nums[0] is None:
            self._problem(f"sampler: bad P line: {clip(line)}")
            return {}
        values = {"mem.runner.pss": nums[0] / 1024.0}
        if nums[1] is not None and nums[2] is not None:
            values["mem.runner.uss"] = (nums[1] + nums[2]) / 1024.0
        return values

    def _problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        else:
            self.dropped_problems += 1
