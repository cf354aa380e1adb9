// meshmeet's frame encryption worker: every encoded audio and video frame a participant
// sends is encrypted here (AES-GCM through Web Crypto) before the browser packetises it,
// and every frame received is decrypted before the decoder sees it. The page starts it from
// a Blob (src/rtc/frame_crypto.rs) and gives it one RTCRtpScriptTransform per sender and
// receiver, with options { operation: "encrypt" | "decrypt", kind: "audio" | "video" }.
//
// A protected frame, SFrame-like, keeps what a forwarding server needs in the clear:
//   [codec header, clear][ciphertext + 16-byte tag][IV, 12 bytes][key index, 1 byte]
// The clear header is VP8's payload descriptor and first partition bytes (10 for a key frame,
// 3 otherwise: the server sees key frames and sizes) and Opus's TOC byte (1). It is the
// additional authenticated data: changing it makes the frame fail to decrypt. The IV is a
// random 8-byte prefix of this transform and a 32-bit counter (a new prefix when it wraps):
// a key that many senders use over many meetings (one from a passphrase) repeats an IV only
// if two of them draw the same 64-bit prefix.
//
// Messages from the page, applied one at a time in the order sent: { type: "key", index,
// raw } (an AES key of 16 or 32 bytes, raw null to forget it), { type: "send_with", index },
// and, for tests that show which frames a page's keys open, { type: "probe", kind, frames,
// port }: each protected frame is tried with the keys held, and { decrypted, failed } is
// posted to the port.
// To the page, about every second while frames flow: { type: "stats", encrypted,
// decrypted, failed }.

"use strict";

const IV_BYTES = 12;
const TAG_BYTES = 16;
const TRAILER_BYTES = IV_BYTES + 1;

const keys = new Map();
let sendIndex = null;
const counts = { encrypted: 0, decrypted: 0, failed: 0 };
let reported = 0;

function clearBytes(kind, frame) {
  if (kind === "audio") return 1;
  return frame.type === "key" ? 10 : 3;
}

function report() {
  const now = Date.now();
  if (now - reported >= 1000) {
    reported = now;
    self.postMessage({ type: "stats", ...counts });
  }
}

async function importKey(raw) {
  return crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, [
    "encrypt",
    "decrypt",
  ]);
}

async function apply(msg) {
  if (msg.type === "key") {
    if (msg.raw === null) {
      keys.delete(msg.index);
    } else {
      keys.set(msg.index, await importKey(new Uint8Array(msg.raw)));
    }
  } else if (msg.type === "send_with") {
    sendIndex = msg.index;
  } else if (msg.type === "probe") {
    let decrypted = 0;
    let failed = 0;
    for (const frame of msg.frames) {
      const plain = await open(msg.kind, "delta", new Uint8Array(frame));
      if (plain) decrypted += 1;
      else failed += 1;
    }
    msg.port.postMessage({ decrypted, failed });
  }
}

// The frame `data` opened with the key it names (`type`: a video frame's, "key" or
// "delta"), or null.
async function open(kind, type, data) {
  const clear = clearBytes(kind, { type });
  const key = keys.get(data[data.length - 1]);
  if (!key || data.length < clear + TAG_BYTES + TRAILER_BYTES) return null;
  const ivAt = data.length - TRAILER_BYTES;
  try {
    const plain = new Uint8Array(
      await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: data.subarray(ivAt, ivAt + IV_BYTES),
          additionalData: data.subarray(0, clear),
        },
        key,
        data.subarray(clear, ivAt),
      ),
    );
    const out = new Uint8Array(clear + plain.length);
    out.set(data.subarray(0, clear));
    out.set(plain, clear);
    return out;
  } catch (_) {
    return null;
  }
}

// A key's import takes a moment: a later message (forget it, send with it) waits for it.
let applied = Promise.resolve();
self.onmessage = (event) => {
  applied = applied.then(() => apply(event.data)).catch(() => {});
};

function encrypter(kind) {
  let prefix = crypto.getRandomValues(new Uint8Array(8));
  let counter = 0;
  return async (frame, controller) => {
    // The frame names the key it is sealed with, whatever the page says meanwhile.
    const index = sendIndex;
    const key = keys.get(index);
    // Nothing leaves without encryption: no key yet, no frame.
    if (!key || frame.data.byteLength === 0) return;
    const data = new Uint8Array(frame.data);
    const clear = Math.min(clearBytes(kind, frame), data.length);
    if (counter === 0x100000000) {
      prefix = crypto.getRandomValues(new Uint8Array(8));
      counter = 0;
    }
    const iv = new Uint8Array(IV_BYTES);
    iv.set(prefix);
    new DataView(iv.buffer).setUint32(8, counter);
    counter += 1;
    let sealed;
    try {
      sealed = new Uint8Array(
        await crypto.subtle.encrypt(
          { name: "AES-GCM", iv, additionalData: data.subarray(0, clear) },
          key,
          data.subarray(clear),
        ),
      );
    } catch (_) {
      // Never stall the sender's stream: this frame is dropped, the next one tried.
      return;
    }
    const out = new Uint8Array(clear + sealed.length + TRAILER_BYTES);
    out.set(data.subarray(0, clear));
    out.set(sealed, clear);
    out.set(iv, clear + sealed.length);
    out[out.length - 1] = index;
    frame.data = out.buffer;
    counts.encrypted += 1;
    report();
    controller.enqueue(frame);
  };
}

function decrypter(kind) {
  return async (frame, controller) => {
    const data = new Uint8Array(frame.data);
    if (data.length === 0) return;
    const plain = await open(kind, frame.type, data);
    if (!plain) {
      // Another key, none, or a frame changed on the way: never handed to the decoder.
      counts.failed += 1;
      report();
      return;
    }
    frame.data = plain.buffer;
    counts.decrypted += 1;
    report();
    controller.enqueue(frame);
  };
}

self.onrtctransform = (event) => {
  const transformer = event.transformer;
  const { operation, kind } = transformer.options;
  const transform = operation === "encrypt" ? encrypter(kind) : decrypter(kind);
  transformer.readable
    .pipeThrough(new TransformStream({ transform }))
    .pipeTo(transformer.writable);
};
