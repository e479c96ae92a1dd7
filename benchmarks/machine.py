"""What the benchmarks ran on: processor, cores, memory, OS, and the versions of everything
measured, so that a results file says which machine and software its figures belong to."""

from __future__ import annotations

import importlib.metadata
import os
import platform

PACKAGES = ["nablax", "jax", "jaxlib", "optax", "numpy", "torch", "flax", "equinox"]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return None


def usable_cores() -> int:
    """The cores this process may run on (a container's share, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def load_average() -> str:
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def describe() -> dict[str, str]:
    """The machine and software, as label -> text."""
    import jax

    memory = memory_gib()
    description = {
        "CPU": cpu_model(),
        "cores": f"{usable_cores()} usable ({os.cpu_count()} reported)",
        "memory": f"{memory:.1f} GiB" if memory else "unknown",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "JAX device": f"{jax.devices()[0].platform} ({jax.devices()[0].device_kind})",
    }
    description.update({name: package_version(name) for name in PACKAGES})
    if description["torch"] != "not installed":
        import torch

        description["torch"] += f" ({torch.get_num_threads()} threads)"
    return description
