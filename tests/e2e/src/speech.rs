//! A loud, speech-like sound for Chromium's fake microphone
//! (`--use-file-for-fake-audio-capture`): the fake device's own beep is silent most of the
//! time, so a media server averaging its level never hears anyone talk.
//!
//! The sound is a voice-like buzz (a gliding fundamental with its harmonics) whose loudness
//! rises and falls four times a second like syllables but never falls silent: Janus averages
//! the level in dBov over a window, and a single silent gap weighs as much as many loud
//! packets.

use std::f64::consts::TAU;
use std::path::Path;

/// Samples per second of the file (Opus's rate: Chromium resamples nothing).
pub const SAMPLE_RATE: u32 = 48_000;
/// Length of the file; Chromium loops it.
const SECONDS: u32 = 6;
/// Syllables per second.
const SYLLABLES_HZ: f64 = 4.0;

/// The samples: mono, 16-bit.
pub fn speech_samples() -> Vec<i16> {
    let count = SAMPLE_RATE * SECONDS;
    let mut phase = 0.0_f64;
    (0..count)
        .map(|n| {
            let t = f64::from(n) / f64::from(SAMPLE_RATE);
            // The pitch glides between 120 and 220 Hz over each second, as a voice does.
            let pitch = 170.0 + 50.0 * (TAU * 0.5 * t).sin();
            phase += TAU * pitch / f64::from(SAMPLE_RATE);
            let voice: f64 = (1..=6)
                .map(|k| (phase * f64::from(k)).sin() / f64::from(k))
                .sum::<f64>()
                / 1.6;
            let syllables = 0.6 + 0.3 * (TAU * SYLLABLES_HZ * t).sin();
            let sample = (voice * syllables * 0.8).clamp(-1.0, 1.0);
            // In range by the clamp above.
            (sample * f64::from(i16::MAX)) as i16
        })
        .collect()
}

/// The samples as a WAV file's bytes (PCM, mono, 16-bit).
pub fn speech_wav() -> Vec<u8> {
    let samples = speech_samples();
    let data_len = u32::try_from(samples.len() * 2).unwrap_or(u32::MAX);
    let mut wav = Vec::with_capacity(44 + samples.len() * 2);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    wav.extend_from_slice(&(SAMPLE_RATE * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for sample in samples {
        wav.extend_from_slice(&sample.to_le_bytes());
    }
    wav
}

/// Writes [`speech_wav`] to `path`.
pub fn write_speech_wav(path: &Path) -> std::io::Result<()> {
    std::fs::write(path, speech_wav())
}

/// The Chromium flag that makes the fake microphone play the file at `path`.
pub fn fake_microphone_arg(path: &Path) -> String {
    format!("--use-file-for-fake-audio-capture={}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The level of 20 ms of sound as RFC 6464 counts it: -dBov, 0 the loudest, 127 silence.
    fn level(frame: &[i16]) -> f64 {
        let mean_square = frame
            .iter()
            .map(|s| (f64::from(*s) / f64::from(i16::MAX)).powi(2))
            .sum::<f64>()
            / frame.len() as f64;
        (-10.0 * mean_square.log10()).min(127.0)
    }

    #[test]
    fn every_packet_of_the_sound_is_loud_enough_to_count_as_talking() {
        let samples = speech_samples();
        let frame = (SAMPLE_RATE / 50) as usize;
        let levels: Vec<f64> = samples.chunks(frame).map(level).collect();
        let loudest = levels.iter().copied().fold(f64::MAX, f64::min);
        let quietest = levels.iter().copied().fold(0.0, f64::max);
        let average = levels.iter().sum::<f64>() / levels.len() as f64;
        // Janus's default threshold is an average below 25 dBov.
        assert!(quietest < 20.0, "quietest packet {quietest:.1} dBov");
        assert!(average < 15.0, "average {average:.1} dBov");
        assert!(loudest > 1.0, "not clipping: {loudest:.1} dBov");
    }

    #[test]
    fn the_wav_header_describes_the_samples() {
        let wav = speech_wav();
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        assert_eq!(&wav[36..40], b"data");
        let data = u32::from_le_bytes([wav[40], wav[41], wav[42], wav[43]]) as usize;
        assert_eq!(data, wav.len() - 44);
        assert_eq!(data, speech_samples().len() * 2);
    }
}
