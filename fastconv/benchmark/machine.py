"""What the numbers are measured against: the CPU's name and its nominal fp32 peak."""
import numpy as np

# This machine's nominal fp32 peak: 2 cores × 2.6 GHz × 2 FMA units × 16 fp32 lanes
# (AVX-512) × 2 FLOPs per FMA = 332.8 GFLOP/s. `run.py --peak` overrides it elsewhere.
FP32_PEAK_GFLOPS = 2 * 2.6 * 2 * 16 * 2


def peak_gflops(dtype, fp32_peak=FP32_PEAK_GFLOPS):
    """The peak for `dtype`: a vector register holds half as many float64 lanes."""
    return fp32_peak * 4 / np.dtype(dtype).itemsize


def cpu_model():
    """The CPU's model name from /proc/cpuinfo, or "unknown CPU" where there is none."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"
