//! Sound level of a stream, for the microphone meter and the speaking highlight.

use crate::js::JsError;
use std::cell::RefCell;
use wasm_bindgen::JsValue;
use web_sys::{
    AnalyserNode, AudioContext, AudioContextOptions, MediaStream, MediaStreamAudioSourceNode,
};

thread_local! {
    // One context for every meter: browsers make each context a real audio graph.
    static CONTEXT: RefCell<Option<AudioContext>> = const { RefCell::new(None) };
}

fn shared_context() -> Result<AudioContext, JsError> {
    CONTEXT.with(|cell| {
        let mut cell = cell.borrow_mut();
        if let Some(context) = cell.as_ref() {
            return Ok(context.clone());
        }
        // The meters read levels a few times a second: a "playback" context renders in large
        // blocks, where the default ("interactive", 128 frames) wakes an audio thread about
        // 375 times a second. In an eight-person call on two cores that thread cost each page
        // 0.4–0.7× its WebRTC worker thread; with "playback", under 0.2× (docs/PERFORMANCE.md).
        let options = AudioContextOptions::new();
        options.set_latency_hint(&JsValue::from_str("playback"));
        let context = AudioContext::new_with_context_options(&options)?;
        *cell = Some(context.clone());
        Ok(context)
    })
}

/// Measures the loudness of a stream's audio. Reading is cheap; the owner polls it.
pub struct LevelMeter {
    source: MediaStreamAudioSourceNode,
    analyser: AnalyserNode,
    buffer: Vec<u8>,
}

impl LevelMeter {
    /// Starts measuring the audio of `stream` (which must have an audio track).
    pub fn new(stream: &MediaStream) -> Result<Self, JsError> {
        let context = shared_context()?;
        let source = context.create_media_stream_source(stream)?;
        let analyser = context.create_analyser()?;
        analyser.set_fft_size(512);
        source.connect_with_audio_node(&analyser)?;
        // The context may start suspended until a user gesture; resuming later is harmless.
        let _ = context.resume();
        Ok(LevelMeter {
            source,
            analyser,
            buffer: vec![0; 512],
        })
    }

    /// Current level from 0.0 (silence) to 1.0 (full scale), as RMS of the waveform.
    pub fn level(&mut self) -> f32 {
        self.analyser.get_byte_time_domain_data(&mut self.buffer);
        rms_level(&self.buffer)
    }
}

impl Drop for LevelMeter {
    fn drop(&mut self) {
        let _ = self.source.disconnect();
    }
}

/// RMS of 8-bit unsigned PCM centred on 128, scaled so speech reaches about 0.3–0.6.
pub fn rms_level(samples: &[u8]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f32 = samples
        .iter()
        .map(|&s| {
            let v = (f32::from(s) - 128.0) / 128.0;
            v * v
        })
        .sum();
    ((sum / samples.len() as f32).sqrt() * 3.0).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_is_zero_and_full_swing_is_one() {
        assert_eq!(rms_level(&[128; 64]), 0.0);
        let loud: Vec<u8> = (0..64).map(|i| if i % 2 == 0 { 0 } else { 255 }).collect();
        assert!((rms_level(&loud) - 1.0).abs() < 1e-6);
        assert_eq!(rms_level(&[]), 0.0);
    }
}
