"""Device text in the shape real phones print it (Pixel 7-like, Samsung Snapdragon-like, an old
MediaTek phone, a Linux board), with the permission errors and missing files they really produce."""

GETPROP_PIXEL = """\
[dalvik.vm.heapsize]: [512m]
[persist.sys.boot.reason.history]: [reboot,userrequested,1700000000
reboot,ota,1699990000
reboot,1699980000]
[ro.board.platform]: [gs201]
[ro.build.version.release]: [14]
[ro.build.version.release_or_codename]: [14]
[ro.build.version.sdk]: [34]
[ro.hardware]: [panther]
[ro.product.brand]: [google]
[ro.product.cpu.abi]: [arm64-v8a]
[ro.product.cpu.abilist]: [arm64-v8a]
[ro.product.cpu.abilist32]: []
[ro.product.manufacturer]: [Google]
[ro.product.model]: [Pixel 7]
[ro.soc.manufacturer]: [Google]
[ro.soc.model]: [GS201]
"""

GETPROP_SAMSUNG = """\
[ro.board.platform]: [kalama]
[ro.build.version.release]: [13]
[ro.build.version.sdk]: [33]
[ro.hardware]: [qcom]
[ro.product.cpu.abilist]: [arm64-v8a,armeabi-v7a,armeabi]
[ro.product.manufacturer]: [samsung]
[ro.product.model]: [SM-S911B]
[ro.soc.manufacturer]: [QTI]
[ro.soc.model]: [SM8550]
"""

GETPROP_OLD_MEDIATEK = """\
[ro.board.platform]: [mt6765]
[ro.build.version.release]: [9]
[ro.build.version.sdk]: [28]
[ro.hardware]: [mt6765]
[ro.product.cpu.abi]: [arm64-v8a]
[ro.product.cpu.abilist]: [arm64-v8a,armeabi-v7a,armeabi]
[ro.product.manufacturer]: [HMD Global]
[ro.product.model]: [Nokia 2.3]
"""

PROC_STAT_A = """\
cpu  1841220 21035 1020313 9811346 21553 198441 67511 0 0 0
cpu0 412023 5001 301020 2101221 7001 90112 40010 0 0 0
cpu1 402010 5010 290001 2150000 6002 60000 20000 0 0 0
cpu2 550000 6000 230000 2700000 5000 30000 5000 0 0 0
cpu4 477187 5024 199292 2860125 3550 18329 2501 0 0 0
intr 203911211 0 0 0 0 0 0 0 0 0 0 0 0 0 0 4422312 0 0 0 0 0 0 0 0
ctxt 301240551
btime 1700000000
processes 412330
procs_running 3
procs_blocked 0
softirq 60122310 12 20113221 1201 3012311 0 0 1023111 20111211 0 15000043
"""

# 1 s later: cpu0 busy 75 %, cpu1 idle, cpu2 hot-unplugged, cpu3 back online, cpu4 50 %.
PROC_STAT_B = """\
cpu  1841420 21035 1020363 9811546 21553 198441 67511 0 0 0
cpu0 412083 5001 301030 2101246 7001 90112 40015 0 0 0
cpu1 402010 5010 290001 2150100 6002 60000 20000 0 0 0
cpu3 10 0 10 100 0 0 0 0 0 0
cpu4 477237 5024 199292 2860175 3550 18329 2501 0 0 0
intr 203911611 0 0 0 0 0 0 0 0 0 0 0 0 0 0 4422312 0 0 0 0 0 0 0 0
"""

CPUFREQ_PIXEL = """\
/sys/devices/system/cpu/cpufreq/policy0/affected_cpus: 0 1 2 3
/sys/devices/system/cpu/cpufreq/policy0/cpuinfo_cur_freq: cat: /sys/devices/system/cpu/cpufreq/policy0/cpuinfo_cur_freq: Permission denied
/sys/devices/system/cpu/cpufreq/policy0/cpuinfo_max_freq: 1803000
/sys/devices/system/cpu/cpufreq/policy0/cpuinfo_min_freq: 300000
/sys/devices/system/cpu/cpufreq/policy0/related_cpus: 0 1 2 3
/sys/devices/system/cpu/cpufreq/policy0/scaling_available_frequencies: 300000 574000 738000 930000 1098000 1197000 1328000 1401000 1598000 1704000 1803000
/sys/devices/system/cpu/cpufreq/policy0/scaling_cur_freq: 1098000
/sys/devices/system/cpu/cpufreq/policy0/scaling_governor: sched_pixel
/sys/devices/system/cpu/cpufreq/policy0/scaling_max_freq: 1803000
/sys/devices/system/cpu/cpufreq/policy0/scaling_min_freq: 300000
/sys/devices/system/cpu/cpufreq/policy0/stats: cat: /sys/devices/system/cpu/cpufreq/policy0/stats: Is a directory
/sys/devices/system/cpu/cpufreq/policy4/related_cpus: 4 5
/sys/devices/system/cpu/cpufreq/policy4/scaling_cur_freq: 2348000
/sys/devices/system/cpu/cpufreq/policy4/scaling_governor: sched_pixel
/sys/devices/system/cpu/cpufreq/policy4/scaling_max_freq: 2348000
/sys/devices/system/cpu/cpufreq/policy4/scaling_min_freq: 400000
/sys/devices/system/cpu/cpufreq/policy6/related_cpus: 6-7
/sys/devices/system/cpu/cpufreq/policy6/scaling_cur_freq: cat: /sys/devices/system/cpu/cpufreq/policy6/scaling_cur_freq: No such file or directory
/sys/devices/system/cpu/cpufreq/policy6/cpuinfo_cur_freq: 2850000
/sys/devices/system/cpu/cpufreq/policy6/scaling_governor: cat: can't open '/sys/devices/system/cpu/cpufreq/policy6/scaling_governor': Permission denied
"""

THERMAL_PIXEL = """\
/sys/class/thermal/thermal_zone0/type: BIG
/sys/class/thermal/thermal_zone0/temp: 45123
/sys/class/thermal/thermal_zone1/type: MID
/sys/class/thermal/thermal_zone1/temp: 41000
/sys/class/thermal/thermal_zone2/type: battery
/sys/class/thermal/thermal_zone2/temp: 298
/sys/class/thermal/thermal_zone3/type: usb_pwr_therm2
/sys/class/thermal/thermal_zone3/temp: cat: /sys/class/thermal/thermal_zone3/temp: Permission denied
/sys/class/thermal/thermal_zone4/type: sdm-therm
/sys/class/thermal/thermal_zone4/temp: 0
/sys/class/thermal/thermal_zone4/mode: disabled
/sys/class/thermal/thermal_zone5/type: pm8350b_tz
/sys/class/thermal/thermal_zone5/temp: -2500
/sys/class/thermal/thermal_zone6/type: cpuss-0-usr
/sys/class/thermal/thermal_zone6/temp: cat: /sys/class/thermal/thermal_zone6/temp: Invalid argument
/sys/class/thermal/thermal_zone7/type: soc
/sys/class/thermal/thermal_zone7/temp: -273000
"""

POWER_PIXEL_DISCHARGING = """\
/sys/class/power_supply/battery/uevent: POWER_SUPPLY_NAME=battery
POWER_SUPPLY_TYPE=Battery
POWER_SUPPLY_STATUS=Discharging
POWER_SUPPLY_PRESENT=1
POWER_SUPPLY_CAPACITY=78
POWER_SUPPLY_CURRENT_NOW=-612000
POWER_SUPPLY_VOLTAGE_NOW=4012000
POWER_SUPPLY_TEMP=301
/sys/class/power_supply/usb/uevent: POWER_SUPPLY_NAME=usb
POWER_SUPPLY_TYPE=USB
POWER_SUPPLY_ONLINE=0
POWER_SUPPLY_VOLTAGE_NOW=0
/sys/class/power_supply/wireless/type: Wireless
/sys/class/power_supply/wireless/online: 0
/sys/class/power_supply/dc/type: Mains
/sys/class/power_supply/dc/online: cat: /sys/class/power_supply/dc/online: Permission denied
/sys/class/power_supply/maxfg/type: Battery
/sys/class/power_supply/maxfg/current_now: cat: /sys/class/power_supply/maxfg/current_now: Permission denied
"""

POWER_SAMSUNG_DISCHARGING = """\
/sys/class/power_supply/battery/type: Battery
/sys/class/power_supply/battery/status: Discharging
/sys/class/power_supply/battery/current_now: 523
/sys/class/power_supply/battery/voltage_now: 3987
/sys/class/power_supply/ac/type: Mains
/sys/class/power_supply/ac/online: 0
/sys/class/power_supply/usb/type: USB
/sys/class/power_supply/usb/online: 0
/sys/class/power_supply/otg/type: OTG
/sys/class/power_supply/otg/online: 1
"""

POWER_SAMSUNG_CHARGING = """\
/sys/class/power_supply/battery/type: Battery
/sys/class/power_supply/battery/status: Charging
/sys/class/power_supply/battery/current_now: -1210
/sys/class/power_supply/battery/voltage_now: 4105
/sys/class/power_supply/usb/type: USB
/sys/class/power_supply/usb/online: 1
"""

POWER_LINUX_BOARD = """\
/sys/class/power_supply/*/uevent: cat: '/sys/class/power_supply/*/uevent': No such file or directory
"""

PROC_STATUS_RUNNER = """\
Name:\tonnxruntime_pe
Umask:\t0077
State:\tR (running)
Tgid:\t12345
Pid:\t12345
PPid:\t12001
VmPeak:\t 2451220 kB
VmSize:\t 2449100 kB
VmLck:\t       0 kB
VmPin:\t       0 kB
VmHWM:\t  188412 kB
VmRSS:\t  171024 kB
RssAnon:\t  120300 kB
RssFile:\t   50600 kB
RssShmem:\t     124 kB
VmSwap:\t       0 kB
Threads:\t9
"""

SMAPS_ROLLUP = """\
5b4a3f1000-7ffdd2f000 ---p 00000000 00:00 0                          [rollup]
Rss:              171024 kB
Pss:              150112 kB
Pss_Anon:         120200 kB
Pss_File:          29800 kB
Shared_Clean:      21000 kB
Shared_Dirty:         24 kB
Private_Clean:     29600 kB
Private_Dirty:    120400 kB
Referenced:       170000 kB
Anonymous:        120300 kB
Swap:                  0 kB
SwapPss:               0 kB
"""

SMAPS_DENIED = "cat: /proc/1021/smaps_rollup: Permission denied\n"

THERMALSERVICE = """\
IsStatusOverride: false
ThermalEventListeners:
\tcallbacks: 2
\tkilled: false
\tbroadcasts count: -1
ThermalStatusListeners:
\tcallbacks: 1
\tkilled: false
\tbroadcasts count: -1
Thermal Status: 2
Cached temperatures:
\tTemperature{mValue=28.000002, mType=3, mName=VIRTUAL-SKIN, mStatus=0}
\tTemperature{mValue=33.5, mType=0, mName=BIG, mStatus=0}
HAL Ready: true
HAL connection:
\tThermalHAL AIDL 1  connected: yes
Current temperatures from HAL:
\tTemperature{mValue=41.2, mType=0, mName=BIG, mStatus=2}
\tTemperature{mValue=29.8, mType=2, mName=battery, mStatus=0}
\tTemperature{mValue=38.4, mType=3, mName=VIRTUAL-SKIN, mStatus=2}
\tTemperature{mValue=36.9, mType=10, mName=TPU, mStatus=1}
Current cooling devices from HAL:
\tCoolingDevice{mValue=0, mType=2, mName=cpu-cluster0}
\tCoolingDevice{mValue=3, mType=2, mName=cpu-cluster2}
Temperature static thresholds from HAL:
\tTemperatureThreshold{mType=3, mName=VIRTUAL-SKIN, mHotThrottlingThresholds=[NaN, 39.0, 43.0, 45.0, 46.5, 52.0, 55.0]}
"""

DUMPSYS_BATTERY = """\
Current Battery Service state:
  AC powered: false
  USB powered: true
  Wireless powered: false
  Dock powered: false
  Max charging current: 500000
  Max charging voltage: 5000000
  Charge counter: 3845000
  status: 2
  health: 2
  present: true
  level: 87
  scale: 100
  voltage: 4281
  temperature: 285
  technology: Li-ion
"""

ODPM_0 = """\
t=10406498
CH0(T=10406498)[S10M_VDD_TPU], 3330287817
CH1(T=10406498)[VSYS_PWR_MODEM], 11224464399
CH2(T=10406498)[S2M_VDD_CPUCL2], 40112233445
"""

# 2 s later: TPU 0.5 W, modem 0.25 W, big cores 3 W.
ODPM_1 = """\
t=10408498
CH0(T=10408498)[S10M_VDD_TPU], 3331287817
CH1(T=10408498)[VSYS_PWR_MODEM], 11224964399
CH2(T=10408498)[S2M_VDD_CPUCL2], 40118233445
"""

PERF_TEST_ORT_1_17 = """\
Setting intra_op_num_threads to 4
Session creation time cost: 0.0183481 s
First inference time cost: 2 ms
Total inference time cost: 9.40745 s
Total inference requests: 10000
Average inference time cost: 0.940745 ms
Total inference run time: 9.41113 s
Number of inferences per second: 1062.57
Avg CPU usage: 74 %
Peak working set size: 50905088 bytes
Avg CPU usage:74
Peak working set size:50905088
Runs:10000
Min Latency: 0.0007726 s
Max Latency: 0.0018647 s
P50 Latency: 0.0009458 s
P90 Latency: 0.0010243 s
P95 Latency: 0.0010686 s
P99 Latency: 0.0012057 s
P999 Latency: 0.00136 s
"""

PERF_TEST_ANDROID = """\
using NnapiExecutionProvider
Session creation time cost: 2.74716 s
First inference time cost: 85 ms
Total inference time cost: 6.22935 s
Total inference requests: 100
Average inference time cost: 62.2935 ms
Total inference run time: 6.23146 s
Number of inferences per second: 16.0476
Total CPU usage: 382 %
Peak working set size: 114634752 bytes
Min Latency: 0.0529422 s
Max Latency: 0.0912857 s
P50 Latency: 0.0603562 s
P90 Latency: 0.0741593 s
P95 Latency: 0.0837052 s
P99 Latency: 0.0912857 s
P999 Latency: 0.0912857 s
"""
