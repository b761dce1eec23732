"""Build the POSIX sh telemetry loop that runs in ONE long-lived shell on an adb device.

Why a shell loop: the device's clock sets the sample rate (no host round trip per tick), nothing has
to be installed on the phone, and it runs under mksh (Android's /system/bin/sh), toybox, busybox ash
and dash alike. Why this shape: per tick the loop only uses builtins (`read` with a redirection, `case`,
`$((...))`, `echo`), so the only fork per tick is `sleep`; a `cat` per file would cost one fork+exec
per channel and rule out 50-100 Hz. Slow sources (dumpsys thermalservice, a binder call of ~50 ms)
run in a background subshell every K ticks, at most one at a time, so they never stall the tick.

Pacing is deadline based: tick n is due at start + n * period (milliseconds since the loop began,
read from /proc/uptime, which has 10 ms resolution), and the loop sleeps for what is left. Late ticks
are not made up for in a burst: after falling more than two periods behind the schedule restarts.
Fractional `sleep` is detected once by timing `sleep 0.2` (old toolbox `sleep` parses 0.2 as 0 and
returns at once); failing that busybox `usleep`, failing that whole seconds (rate capped at 1 Hz).

Output, one line each, space separated; `-` means "not readable this tick":

    H wb-sampler 1                       first line; version of this format
    H cfg period_ms=<P> slow=<K> therm=<T> sleep=<frac|usleep|int> pss=<Q>
    H stat                               /proc/stat is readable (cpu section present in S lines)
    H cpus <list>                        /sys/devices/system/cpu/possible, e.g. 0-7
    H freq <policy> <cpu ids...>         one per frequency domain, in `f` order
    H tz <index> <first raw value> <type> one per readable, enabled thermal zone, in `t` order
    H bat <supply name>                  battery current_now/voltage_now/status are readable
    H plug <supply name>                 one per charger input with an `online` file, in bit order
    H mem <page_kB>                      runner memory via the pid file (statm resident pages)
    H pss                                the kernel has smaps_rollup (4.14+): P lines may follow
    H odpm <n> <rail...>                 one per ODPM energy meter (iio device), rails in file order
    H ts <|-joined dumpsys lines>        dumpsys thermalservice works; the first reading
    H end
    S <uptime> [c <cpu>:<user>,<nice>,<system>,<idle>,<iowait>,<irq>,<softirq>,<steal> ...]
               [f <kHz> ...] [t <raw> ...] [b <current> <voltage> <C|D|F|N|U> <plug bits>] [m <pages>]
                                         every tick; <cpu> is `a` for the all-CPU line, else the index
    E <uptime> <n> <energy_value lines joined by |>      every K ticks per ODPM meter
    T <uptime> <|-joined status + HAL temperature lines>   every K ticks (background)
    P <uptime> <Pss kB> <Private_Clean kB> <Private_Dirty kB>  every Q ticks while the runner lives
    P <uptime> - <pid>                   the runner's smaps_rollup is unreadable (SELinux, no ptrace
                                         rights); said once per pid, which is then no longer tried

Runner PSS/USS: smaps_rollup walks the runner's page tables (about 1 ms for a few hundred MB, against
microseconds for statm), so it is read only every Q ticks (default about twice a second), with a
`while read` over the file (no process spawned) that stops at Private_Dirty. The header cannot look
at the runner (the loop starts before it), so `H pss` says only that the kernel provides the file
(the shell's own /proc/self/smaps_rollup is readable). A P line is printed just before its S line, so
it rides on that very tick. No pid file yet, a dead runner or a zombie (statm all zeros) give no P
line at all: "not yet" is no reading, not a problem.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass

from workbench.core.errors import WorkbenchError

DEFAULT_PID_FILE = "/data/local/tmp/workbench/run/runner.pid"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class SamplerConfig:
    """What to sample and how fast. `root` prefixes /proc and /sys (tests point it at a fake tree)."""

    hz: float = 10.0
    slow_every: int | None = None  # ticks between dumpsys/ODPM reads; default about once a second
    thermal_every: int = 1  # thermal zones every N ticks (some zones are slow I2C reads)
    root: str = "/"
    pid_file: str = DEFAULT_PID_FILE
    clock: str = "/proc/uptime"  # never prefixed by root: pacing needs the real clock
    dumpsys: str = "dumpsys"  # "" disables thermal status
    pss_every: int | None = None  # ticks between runner smaps_rollup reads; default about 0.5 s; 0 = never
    max_ticks: int = 0  # 0 = run until killed or the reader goes away

    @property
    def period_ms(self) -> int:
        return max(1, round(1000.0 / self.hz))

    @property
    def slow_ticks(self) -> int:
        if self.slow_every is not None:
            return max(1, self.slow_every)
        return max(1, round(self.hz))

    @property
    def pss_ticks(self) -> int:
        """Ticks between smaps_rollup reads (0 = off): about every 0.5 s unless `pss_every` says."""
        if self.pss_every is not None:
            return self.pss_every
        return max(1, round(self.hz / 2))


def _check(cfg: SamplerConfig) -> None:
    if not (0.01 <= cfg.hz <= 1000):
        raise WorkbenchError(f"sampler: rate {cfg.hz} Hz is outside 0.01..1000 Hz")
    for name in ("root", "pid_file", "clock", "dumpsys"):
        value = getattr(cfg, name)
        if any(c.isspace() for c in value) or "'" in value:
            raise WorkbenchError(f"sampler: {name} {value!r} must not contain whitespace or quotes")
    if cfg.thermal_every < 1 or cfg.max_ticks < 0:
        raise WorkbenchError("sampler: thermal_every must be >= 1 and max_ticks >= 0")
    if cfg.pss_every is not None and cfg.pss_every < 0:
        raise WorkbenchError(f"sampler: pss_every {cfg.pss_every} must be >= 0 (0 = no PSS/USS)")


_SCRIPT = r"""
echo "H wb-sampler __VERSION__"
ms_of() { _s=${1%%.*}; _f=${1#*.}; [ "$_f" = "$1" ] && _f=0; _f=${_f}00; _f=${_f%"${_f#??}"}; _f=${_f#0}; MS=$(( (_s - BASE) * 1000 + ${_f:-0} * 10 )); }
BASE=0; read -r UP _r < "$CLK"; BASE=${UP%%.*}
probe_sleep() {
  read -r _a _r < "$CLK"; "$@" 2>/dev/null; _ok=$?; read -r _b _r < "$CLK"
  ms_of "$_a"; _t=$MS; ms_of "$_b"
  [ $_ok -eq 0 ] && [ $(( MS - _t )) -ge 100 ]
}
if probe_sleep sleep 0.2; then SLP=frac; elif probe_sleep usleep 200000; then SLP=usleep; else SLP=int; fi
[ $SLP = int ] && [ "$P" -lt 1000 ] && P=1000
zz() {
  case $SLP in
  frac) _m=$(( $1 % 1000 )); if [ $_m -lt 10 ]; then _m=00$_m; elif [ $_m -lt 100 ]; then _m=0$_m; fi
    sleep $(( $1 / 1000 )).$_m ;;
  usleep) usleep $(( $1 * 1000 )) ;;
  *) sleep $(( ($1 + 999) / 1000 )) ;;
  esac
}
echo "H cfg period_ms=$P slow=$K therm=$TE sleep=$SLP pss=$PE"
HS=0; [ -r "$R/proc/stat" ] && HS=1 && echo "H stat"
v=; read -r v 2>/dev/null < "$R/sys/devices/system/cpu/possible"
if [ -z "$v" ] && [ $HS = 1 ]; then
  while read -r nm _r; do case $nm in cpu) ;; cpu*) v="$v ${nm#cpu}" ;; *) break ;; esac; done 2>/dev/null < "$R/proc/stat"
fi
[ -n "$v" ] && echo "H cpus $v"
FP=""
for d in "$R"/sys/devices/system/cpu/cpufreq/policy*; do
  [ -d "$d" ] || continue
  for c in scaling_cur_freq cpuinfo_cur_freq; do
    v=; read -r v 2>/dev/null < "$d/$c"
    case $v in ''|*[!0-9]*) ;; *) FP="$FP $d/$c"; rc=; read -r rc 2>/dev/null < "$d/related_cpus"; echo "H freq ${d##*/} $rc"; break ;; esac
  done
done
if [ -z "$FP" ]; then
  for d in "$R"/sys/devices/system/cpu/cpu[0-9]*; do
    c=$d/cpufreq/scaling_cur_freq; v=; read -r v 2>/dev/null < "$c"
    case $v in ''|*[!0-9]*) ;; *) FP="$FP $c"; echo "H freq ${d##*/} ${d##*/cpu}" ;; esac
  done
fi
TZ=""
for z in "$R"/sys/class/thermal/thermal_zone*; do
  [ -d "$z" ] || continue
  v=; read -r v 2>/dev/null < "$z/mode"; [ "$v" = disabled ] && continue
  v=; read -r v 2>/dev/null < "$z/temp"
  case $v in ''|0|*[!0-9-]*) continue ;; esac
  ty=; read -r ty _r 2>/dev/null < "$z/type"
  TZ="$TZ $z/temp"; echo "H tz ${z##*thermal_zone} $v ${ty:-unknown}"
done
BD=""; PL=""
for s in "$R"/sys/class/power_supply/*; do
  [ -d "$s" ] || continue
  nm=${s##*/}; ty=; read -r ty 2>/dev/null < "$s/type"
  case "$ty:$nm" in
  *:*otg*|*:*OTG*) ;;
  Battery:*|*:battery)
    v=; read -r v 2>/dev/null < "$s/current_now"
    case $v in ''|*[!0-9-]*) ;; *) { [ -z "$BD" ] || [ "$nm" = battery ]; } && BD=$s ;; esac ;;
  USB*:*|Mains:*|Wireless:*|*:usb|*:ac|*:wireless|*:dc)
    v=; read -r v 2>/dev/null < "$s/online"; [ -n "$v" ] && PL="$PL $s/online" && echo "H plug $nm" ;;
  esac
done
[ -n "$BD" ] && echo "H bat ${BD##*/}"
PK=4; rk=0; rs=0
while read -r k v _r; do [ "$k" = VmRSS: ] && rk=$v && break; done 2>/dev/null < /proc/$$/status
read -r _z rs _r 2>/dev/null < /proc/$$/statm
if [ "${rs:-0}" -gt 0 ] 2>/dev/null && [ "${rk:-0}" -gt 0 ] 2>/dev/null; then
  _q=$(( rk / rs )); if [ $_q -gt 24 ]; then PK=64; elif [ $_q -gt 6 ]; then PK=16; fi
fi
echo "H mem $PK"
HP=0; [ "$PE" -gt 0 ] && [ -r "$R/proc/self/smaps_rollup" ] && HP=1 && echo "H pss"
OD=""; i=0
for e in "$R"/sys/bus/iio/devices/iio:device*/energy_value; do
  v=; read -r v 2>/dev/null < "$e"
  case $v in t=*) ;; *) continue ;; esac
  rl=""
  while read -r x; do case $x in CH*) y=${x#*\[}; rl="$rl ${y%%\]*}" ;; esac; done 2>/dev/null < "$e"
  OD="$OD $e"; echo "H odpm $i$rl"; i=$((i + 1))
done
ts_read() {
  "$DS" thermalservice 2>/dev/null | {
    o=""; s=0
    while read -r l; do
      case $l in
      "Thermal Status:"*) o="$o|$l" ;;
      "Current temperatures from HAL:"*) s=1; o="$o|$l" ;;
      Temperature\{*) [ $s = 1 ] && o="$o|$l" ;;
      *) [ $s = 1 ] && s=2 ;;
      esac
    done
    echo "$1 $o"
  }
}
TS=0
if [ -n "$DS" ] && command -v "$DS" >/dev/null 2>&1; then
  o=$(ts_read H); case $o in *"Thermal Status:"*) TS=1; echo "H ts${o#H}" ;; esac
fi
echo "H end"
set -f
n=0; dp=""; SD=""
read -r UP _r < "$CLK"; ms_of "$UP"; NX=$MS
while :; do
  read -r UP _r < "$CLK"
  L="S $UP"
  if [ $HS = 1 ]; then
    L="$L c"
    while read -r nm a b c d e f g h _r; do
      case $nm in
      cpu) L="$L a:$a,$b,$c,$d,$e,$f,$g,$h" ;;
      cpu*) L="$L ${nm#cpu}:$a,$b,$c,$d,$e,$f,$g,$h" ;;
      *) break ;;
      esac
    done 2>/dev/null < "$R/proc/stat"
  fi
  if [ -n "$FP" ]; then
    L="$L f"; for p in $FP; do v=; read -r v 2>/dev/null < "$p"; L="$L ${v:--}"; done
  fi
  if [ -n "$TZ" ] && [ $(( n % TE )) -eq 0 ]; then
    L="$L t"; for p in $TZ; do v=; read -r v 2>/dev/null < "$p"; L="$L ${v:--}"; done
  fi
  if [ -n "$BD" ]; then
    bc=; bv=; st=
    read -r bc 2>/dev/null < "$BD/current_now"; read -r bv 2>/dev/null < "$BD/voltage_now"
    read -r st _r 2>/dev/null < "$BD/status"
    case $st in Charging) st=C ;; Discharging) st=D ;; Full) st=F ;; Not) st=N ;; *) st=U ;; esac
    pb=""; for p in $PL; do v=; read -r v 2>/dev/null < "$p"; pb="$pb${v:-0}"; done
    L="$L b ${bc:--} ${bv:--} $st ${pb:--}"
  fi
  pid=; read -r pid 2>/dev/null < "$PIDF"; rs=
  case $pid in ''|*[!0-9]*) ;; *) read -r _z rs _r 2>/dev/null < "$R/proc/$pid/statm" ;; esac
  L="$L m ${rs:--}"
  if [ $HP = 1 ] && [ $(( n % PE )) -eq 0 ] && [ "${rs:-0}" != 0 ] && [ "$pid" != "$SD" ]; then
    ps=; pc=; pd=
    while read -r k v _r; do
      case $k in Pss:) ps=$v ;; Private_Clean:) pc=$v ;; Private_Dirty:) pd=$v; break ;; esac
    done 2>/dev/null < "$R/proc/$pid/smaps_rollup"
    if [ -n "$ps" ]; then
      echo "P $UP $ps ${pc:--} ${pd:--}"
    else
      rs=; read -r _z rs _r 2>/dev/null < "$R/proc/$pid/statm"
      [ "${rs:-0}" != 0 ] && SD=$pid && echo "P $UP - $pid"
    fi
  fi
  echo "$L"
  if [ $(( n % K )) -eq 0 ]; then
    i=0
    for e in $OD; do
      o=""; while read -r x; do o="$o|$x"; done 2>/dev/null < "$e"
      echo "E $UP $i $o"; i=$((i + 1))
    done
    if [ $TS = 1 ]; then
      if [ -z "$dp" ] || ! kill -0 "$dp" 2>/dev/null; then ts_read "T $UP" & dp=$!; fi
    fi
  fi
  n=$((n + 1))
  [ "$MAX" -gt 0 ] && [ $n -ge "$MAX" ] && break
  NX=$((NX + P)); read -r UP _r < "$CLK"; ms_of "$UP"; NOW=$MS
  d=$((NX - NOW))
  [ $d -lt $((0 - 2 * P)) ] && NX=$NOW && d=0
  [ $d -gt 0 ] && zz $d
done
wait
"""


def build_sampler_script(cfg: SamplerConfig) -> str:
    """The full script text for `sh -c` or a pushed file; every setting is quoted in, none is templated."""
    _check(cfg)
    root = cfg.root.rstrip("/")
    head = "\n".join(
        [
            f"R={shlex.quote(root)}" if root else "R=",
            f"P={cfg.period_ms}",
            f"K={cfg.slow_ticks}",
            f"TE={cfg.thermal_every}",
            f"PE={cfg.pss_ticks}",
            f"MAX={cfg.max_ticks}",
            f"CLK={shlex.quote(cfg.clock)}",
            f"PIDF={shlex.quote(cfg.pid_file)}",
            f"DS={shlex.quote(cfg.dumpsys)}" if cfg.dumpsys else "DS=",
        ]
    )
    return head + _SCRIPT.replace("__VERSION__", str(FORMAT_VERSION))
