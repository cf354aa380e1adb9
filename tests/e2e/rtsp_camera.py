"""A mock IP camera for the end-to-end tests: gst-rtsp-server (Debian's
gir1.2-gst-rtsp-server-1.0, run with Debian's python3 and python3-gi) serving a moving test
pattern as H.264 at rtsp://127.0.0.1:<port>/camera, --width x --height at 10 fps. Prints one
line, {"url": "rtsp://..."}, once it listens, and serves until its stdin closes.
"""

import argparse
import json
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    args = parser.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service("0")  # a free port, read back below
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        "( videotestsrc is-live=true pattern=ball "
        f"! video/x-raw,width={args.width},height={args.height},framerate=10/1 "
        "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 "
        "! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    factory.set_shared(True)
    server.get_mount_points().add_factory("/camera", factory)
    server.attach(None)
    loop = GLib.MainLoop()
    print(json.dumps({"url": f"rtsp://127.0.0.1:{server.get_bound_port()}/camera"}), flush=True)

    def wait_for_stdin():
        sys.stdin.read()
        GLib.idle_add(loop.quit)

    threading.Thread(target=wait_for_stdin, daemon=True).start()
    loop.run()


if __name__ == "__main__":
    main()
