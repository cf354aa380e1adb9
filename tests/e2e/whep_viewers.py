"""Non-browser WHEP viewers for the live end-to-end test (aiortc, a WebRTC peer in Python).

Each viewer posts a receive-only offer (one audio, one video) to the WHEP endpoint with the
viewer token, applies the answer, decodes what arrives until it has --min-frames video
frames or --seconds pass, then ends its session with DELETE. Prints one JSON object:
{"viewers": [{"status": 201, "video_frames": n, "audio_frames": n, "size": [w, h],
"error": null}, ...]}. The test decides what passes; this script only reports.
"""

import argparse
import asyncio
import json

from aiortc import RTCPeerConnection, RTCSessionDescription

from sdp_http import http


async def viewer(endpoint, token, min_frames, seconds):
    report = {"status": None, "video_frames": 0, "audio_frames": 0, "size": None, "error": None}
    pc = RTCPeerConnection()
    enough = asyncio.Event()

    @pc.on("track")
    def on_track(track):
        async def pull():
            while True:
                try:
                    frame = await track.recv()
                except Exception:  # the track ended
                    return
                if track.kind == "video":
                    report["video_frames"] += 1
                    report["size"] = [frame.width, frame.height]
                    if report["video_frames"] >= min_frames:
                        enough.set()
                else:
                    report["audio_frames"] += 1

        asyncio.ensure_future(pull())

    pc.addTransceiver("audio", direction="recvonly")
    pc.addTransceiver("video", direction="recvonly")
    location = None
    try:
        # aiortc gathers every candidate before setLocalDescription returns: the offer
        # carries them (the relay takes no trickle).
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription.sdp.encode()
        status, headers, text = await asyncio.to_thread(http, "POST", endpoint, token, offer)
        report["status"] = status
        if status != 201:
            report["error"] = f"POST answered {status}: {text.strip()}"
            return report
        location = headers.get("Location")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=text, type="answer"))
        try:
            await asyncio.wait_for(enough.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            report["error"] = f"{report['video_frames']} video frames within {seconds} s"
    except Exception as err:  # report, never hide: the test fails on it
        report["error"] = f"{type(err).__name__}: {err}"
    finally:
        if location:
            origin = endpoint.split("/whep/")[0]
            await asyncio.to_thread(http, "DELETE", origin + location, token)
        await pc.close()
    return report


async def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint", required=True, help="http://host:port/whep/<room>")
    parser.add_argument("--token", required=True)
    parser.add_argument("--viewers", type=int, default=5)
    parser.add_argument("--min-frames", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    reports = await asyncio.gather(
        *(viewer(args.endpoint, args.token, args.min_frames, args.seconds)
          for _ in range(args.viewers))
    )
    print(json.dumps({"viewers": reports}))


if __name__ == "__main__":
    asyncio.run(main())
