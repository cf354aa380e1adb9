"""A non-browser WHIP encoder for the end-to-end tests (aiortc, a WebRTC peer in Python).

Posts a send-only offer (a moving test pattern of --width x --height and silence) to the
WHIP endpoint with the ingest token, applies the answer and publishes until its stdin closes
(or --seconds pass), then ends its session with DELETE. Prints one JSON line as soon as the
POST is answered, {"status": 201, "location": "/whip/...", "error": null}, and one when it
ends, {"deleted": 200, "error": null}. The test decides what passes; this script only
reports.
"""

import argparse
import asyncio
import json
import sys

from aiortc import AudioStreamTrack, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from av import VideoFrame

from sdp_http import http


class Pattern(VideoStreamTrack):
    """Vertical bars that move a little every frame (a still picture would compress to
    nothing and tell a frozen stream from a live one no better)."""

    def __init__(self, width, height):
        super().__init__()
        self.width, self.height, self.count = width, height, 0

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=self.width, height=self.height, format="yuv420p")
        for index, plane in enumerate(frame.planes):
            if index == 0:
                row = bytes(((x * 2 + self.count * 3) & 0xFF) for x in range(plane.line_size))
            else:
                row = bytes([96 if index == 1 else 160]) * plane.line_size
            plane.update(row * (plane.buffer_size // plane.line_size))
        frame.pts, frame.time_base = pts, time_base
        self.count += 1
        return frame


def say(report):
    print(json.dumps(report), flush=True)


async def stdin_closed():
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


async def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint", required=True, help="http://host:port/whip/<room>")
    parser.add_argument("--token", required=True)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--height", type=int, default=144)
    parser.add_argument("--seconds", type=float, default=300)
    args = parser.parse_args()
    pc = RTCPeerConnection()
    pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
    pc.addTransceiver(Pattern(args.width, args.height), direction="sendonly")
    location = None
    try:
        # aiortc gathers every candidate before setLocalDescription returns: the offer
        # carries them (the relay takes no trickle).
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription.sdp.encode()
        status, headers, text = await asyncio.to_thread(http, "POST", args.endpoint, args.token, offer)
        location = headers.get("Location")
        if status != 201:
            say({"status": status, "location": None, "error": text.strip()})
            return
        await pc.setRemoteDescription(RTCSessionDescription(sdp=text, type="answer"))
        say({"status": status, "location": location, "error": None})
        try:
            await asyncio.wait_for(stdin_closed(), timeout=args.seconds)
        except asyncio.TimeoutError:
            pass
        origin = args.endpoint.split("/whip/")[0]
        deleted, _, text = await asyncio.to_thread(http, "DELETE", origin + location, args.token)
        say({"deleted": deleted, "error": None if deleted == 200 else text.strip()})
    except Exception as err:  # report, never hide: the test fails on it
        say({"status": None, "location": location, "error": f"{type(err).__name__}: {err}"})
    finally:
        await pc.close()


if __name__ == "__main__":
    asyncio.run(main())
