"""Battery readings -> watts drawn from the battery: the one rule for the local power probe and the adb
sampler (and the adb power_supply dump).

Vendor quirks absorbed here, and how:

* current_now unit: the kernel ABI says µA; some Android vendor kernels (older Samsung, several
  MediaTek) report mA. Told apart by magnitude: |raw| >= 10000 is µA (10 A is more than any phone
  battery delivers), below that mA (a busy phone draws far more than 10 mA). A caller that knows
  better passes the unit (the local probe does: mainline Linux drivers follow the ABI, and a laptop
  trickling 5 mA while Full must not read as 5 A); `BatteryMeter` makes µA sticky once seen.
* current_now sign: the ABI (and Pixel) give negative values while discharging; some Samsung and
  Qualcomm kernels positive ones, and ACPI laptop batteries report an unsigned magnitude whatever
  the direction. `discharge_sign` is the sign current_now has while discharging, learned from a
  reading whose status says Discharging (only that status is trusted: while "Charging" a busy phone
  can draw more than a weak charger gives), else the ABI's -1. A positive-while-discharging meter that
  still reads positive while the status says Charging is taken as unsigned (ACPI) and as charging;
  the one misread, a flipped-sign phone drawing more than its charger, is flagged external anyway.
* voltage_now unit: µV per the ABI, mV on some vendors, V on a few: |raw| > 100000 is µV, >= 100 mV,
  else V (voltages are never ambiguous). Outside 2..30 V is no battery voltage.
* power_now (µW, laptops): preferred over current x voltage when present; its sign comes from the
  current when known, else from the status.
* plugged in (USB, AC, wireless) or a status of Charging / Full / Not charging: the battery then
  reports net current (device draw minus charger supply), so its power is not the device's draw.
  It is flagged (`plugged`, the `.external` channels), not hidden.
"""
from __future__ import annotations

from dataclasses import dataclass, field

UA_THRESHOLD = 10000
EXTERNAL_STATUSES = ("charging", "full", "not charging")
MIN_V, MAX_V = 2.0, 30.0


@dataclass
class BatteryPower:
    """One normalized battery reading. `watts` is positive while the battery discharges."""

    watts: float | None
    current_a: float | None  # positive = discharging
    voltage_v: float | None
    current_unit: str | None  # "uA" | "mA"
    discharge_sign: int  # sign current_now has while discharging (-1 ABI/Pixel, +1 some Samsung/Qualcomm/ACPI)
    plugged: bool
    problems: list[str] = field(default_factory=list)


def current_unit_for(raw: float) -> str:
    """'uA' or 'mA' by magnitude (see module docstring)."""
    return "uA" if abs(raw) >= UA_THRESHOLD else "mA"


def voltage_volts(raw: float) -> float:
    """µV, mV or V by magnitude -> volts."""
    a = abs(raw)
    return raw / 1e6 if a > 100000 else raw / 1e3 if a >= 100 else float(raw)


def _status(status: str | None) -> str:
    return (status or "").strip().lower()


def infer_discharge_sign(current_raw: float | None, status: str | None) -> int | None:
    """The sign current_now has while discharging, if this one reading tells (only "Discharging" does)."""
    if current_raw is None or current_raw == 0 or status is None:
        return None
    if _status(status) == "discharging":
        return 1 if current_raw > 0 else -1
    return None


def normalize_battery(
    current_raw: float | None,
    voltage_raw: float | None,
    status: str | None = None,
    plugged: bool = False,
    discharge_sign: int = -1,
    current_unit: str | None = None,
    power_raw: float | None = None,
) -> BatteryPower:
    """Raw current_now / voltage_now (/ power_now) -> watts drawn from the battery (positive = discharging)."""
    problems: list[str] = []
    st = _status(status)
    plugged = plugged or st in EXTERNAL_STATUSES
    sign = 1 if discharge_sign >= 0 else -1
    cur_a: float | None = None
    unit: str | None = None
    if current_raw is not None:
        unit = current_unit or current_unit_for(current_raw)
        cur_a = current_raw * sign / (1e6 if unit == "uA" else 1e3)
        if st == "charging" and sign > 0 and cur_a > 0:
            cur_a = -cur_a  # an unsigned (ACPI) meter: the status gives the direction
    elif power_raw is None:
        problems.append("battery current unreadable")
    volt: float | None = voltage_volts(voltage_raw) if voltage_raw is not None else None
    if voltage_raw is None:
        if power_raw is None:
            problems.append("battery voltage unreadable")
    elif volt is not None and not MIN_V <= volt <= MAX_V:
        problems.append(f"battery voltage {volt:.3g} V is not plausible")
        volt = None
    if power_raw is not None:
        direction = (1 if cur_a > 0 else -1) if cur_a else (-1 if st == "charging" else 1)
        watts: float | None = direction * abs(power_raw) / 1e6
    else:
        watts = cur_a * volt if cur_a is not None and volt is not None else None
    if plugged:
        problems.append("plugged in: battery power is net of the charger, not the device's draw")
    return BatteryPower(watts, cur_a, volt, unit, sign, plugged, problems)


class BatteryMeter:
    """One battery over time: the unit and sign decisions that need more than one reading are sticky.

    The current unit becomes µA once any value is µA-sized; the discharge sign is learned from the first
    Discharging reading with no charger online. Both can be given up front (a remembered device).
    """

    def __init__(self, current_unit: str | None = None, discharge_sign: int | None = None) -> None:
        self.current_unit = current_unit
        self.discharge_sign = discharge_sign

    def read(self, current_raw: float | None, voltage_raw: float | None, status: str | None,
             plugged: bool = False, power_raw: float | None = None) -> BatteryPower:
        if current_raw is not None and self.current_unit != "uA" and abs(current_raw) >= UA_THRESHOLD:
            self.current_unit = "uA"
        if self.discharge_sign is None and not plugged:
            self.discharge_sign = infer_discharge_sign(current_raw, status)
        return normalize_battery(current_raw, voltage_raw, status, plugged, self.discharge_sign or -1,
                                 self.current_unit, power_raw)
