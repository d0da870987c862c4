//! Renders a demo song through the real SoundFont and checks the files through `probe`.

use std::path::Path;

use encore_engine::{DEFAULT_SOUNDFONT_PATH, SoundFontBank, demo_songs, probe, render_song};

/// Decodes a 16-bit PCM WAV body into samples, for level checks.
fn samples(wav: &[u8]) -> Vec<i16> {
    wav[44..]
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// Loads the system SoundFont, or explains why the test is being skipped.
fn bank() -> Option<SoundFontBank> {
    let path = Path::new(DEFAULT_SOUNDFONT_PATH);
    if !path.exists() {
        println!(
            "skipping: {DEFAULT_SOUNDFONT_PATH} is absent; install the fluid-soundfont-gm package to run this test"
        );
        return None;
    }
    Some(SoundFontBank::load(path).expect("the installed SoundFont loads"))
}

#[test]
fn rendered_song_decodes_and_is_sane() {
    let Some(bank) = bank() else { return };
    let songs = demo_songs();
    let spec = songs
        .iter()
        .find(|s| s.title == "Midnight Warehouse")
        .unwrap_or(&songs[0]);
    let song = render_song(&bank, spec, Some(3)).expect("renders");

    assert_eq!(song.sample_rate, 44_100);
    assert_eq!(song.stems.len(), 4);
    let names: Vec<&str> = song.stems.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["drums", "bass", "keys", "lead"]);

    let mix = probe(&song.mix_wav, 60_000).expect("mix decodes");
    assert_eq!((mix.sample_rate, mix.channels), (44_100, 2));
    assert_eq!(mix.duration_ms, song.duration_ms);
    // Three seconds of bars plus the release tail.
    assert!(
        (3_000..=6_000).contains(&mix.duration_ms),
        "{}",
        mix.duration_ms
    );
    for stem in &song.stems {
        let info = probe(&stem.wav, 60_000).expect("stem decodes");
        assert_eq!(
            info.frames, mix.frames,
            "{} length differs from the mix",
            stem.name
        );
        let peak = samples(&stem.wav).iter().map(|s| s.unsigned_abs()).max();
        assert!(peak.unwrap_or(0) > 300, "{} is silent", stem.name);
    }

    let mix_samples = samples(&song.mix_wav);
    let rms = (mix_samples
        .iter()
        .map(|&s| f64::from(s) * f64::from(s))
        .sum::<f64>()
        / mix_samples.len() as f64)
        .sqrt()
        / 32768.0;
    assert!(rms > 0.02, "mix is nearly silent (RMS {rms:.4})");
    let peak = mix_samples
        .iter()
        .map(|s| s.unsigned_abs())
        .max()
        .unwrap_or(0);
    assert!(peak < 32_000, "mix is clipped (peak {peak})");
    assert!(peak > 26_000, "mix was not normalised (peak {peak})");

    // The stems add up to the mix, give or take 16-bit rounding.
    let stems: Vec<Vec<i16>> = song.stems.iter().map(|s| samples(&s.wav)).collect();
    let worst = (0..mix_samples.len())
        .map(|i| {
            let sum: i32 = stems.iter().map(|s| i32::from(s[i])).sum();
            (sum - i32::from(mix_samples[i])).abs()
        })
        .max()
        .unwrap_or(0);
    assert!(worst <= 4, "stems differ from the mix by {worst}");
}

#[test]
fn rendering_is_deterministic() {
    let Some(bank) = bank() else { return };
    let spec = &demo_songs()[7];
    let a = render_song(&bank, spec, Some(2)).expect("renders");
    let b = render_song(&bank, spec, Some(2)).expect("renders");
    assert_eq!(a.mix_wav, b.mix_wav);
}
