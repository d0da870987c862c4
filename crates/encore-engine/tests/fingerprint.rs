//! Fingerprint stories through the public interface: an index of the demo
//! catalog finds where a clip comes from (cut anywhere, re-encoded lossy,
//! quieter, at another rate, inside other audio), finds nothing for music it
//! does not hold, for noise or for silence; replacing and removing tracks
//! work; an upload is probed and fingerprinted in one pass; and the cover
//! guard recognises its input but not other music.
//!
//! Tests that need the SoundFont skip when it is absent.

mod common;

use common::bank;

use encore_engine::audio::{Audio, DecodeLimits, decode, encode_ogg_vorbis, encode_wav, resample};
use encore_engine::fingerprint::{
    FingerprintGuard, FingerprintIndex, ITEM_SECONDS, align, compare, fingerprint,
    probe_and_fingerprint,
};
use encore_engine::generate::{CoverGuard, GenInput};
use encore_engine::{SoundFontBank, demo_songs, probe, render_song};

/// The first `count` demo songs, up to `seconds` of music each, decoded.
fn songs(bank: &SoundFontBank, count: usize, seconds: u32) -> Vec<(String, Audio)> {
    demo_songs()
        .iter()
        .take(count)
        .map(|spec| {
            let song = render_song(bank, spec, Some(seconds)).expect("renders");
            let audio = decode(&song.mix_wav, &DecodeLimits::default()).expect("decodes");
            (spec.title.to_owned(), audio)
        })
        .collect()
}

/// Deterministic white noise at half scale.
fn noise(seconds: f64, rate: u32, seed: u64) -> Audio {
    let mut x = seed | 1;
    let n = (seconds * f64::from(rate)) as usize;
    let s: Vec<f32> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.5
        })
        .collect();
    Audio::from_planar(vec![s], rate).expect("noise")
}

fn join(parts: &[&Audio]) -> Audio {
    let rate = parts[0].sample_rate();
    let mut mono = Vec::new();
    for p in parts {
        assert_eq!(p.sample_rate(), rate);
        mono.extend_from_slice(p.to_mono().channel(0).expect("mono"));
    }
    Audio::from_planar(vec![mono], rate).expect("joined")
}

#[test]
fn an_index_of_the_catalog_finds_where_a_clip_comes_from() {
    let Some(bank) = bank() else { return };
    let catalog = songs(&bank, 6, 24);
    let held_out = &catalog[5];
    let mut index = FingerprintIndex::new();
    let prints: Vec<_> = catalog[..5]
        .iter()
        .map(|(title, audio)| (title.clone(), fingerprint(audio)))
        .collect();
    assert_eq!(index.extend(prints.iter().map(|(t, f)| (t.as_str(), f))), 5);
    assert_eq!(index.len(), 5);
    assert!(index.items() > 5 * 100, "{} items", index.items());

    // Clips cut at arbitrary samples, some changed on the way.
    let cases: [(usize, f64, &str); 5] = [
        (0, 3.217, "as is"),
        (1, 7.001, "ogg vorbis q0.3"),
        (2, 5.555, "6 dB quieter"),
        (3, 2.9, "resampled to 22,050 Hz"),
        (4, 9.43, "ogg vorbis, quieter, 48 kHz"),
    ];
    for (k, start, change) in cases {
        let (title, audio) = &catalog[k];
        let mut c = audio.excerpt(start, 10.0);
        match change {
            "ogg vorbis q0.3" => {
                c = decode(
                    &encode_ogg_vorbis(&c, 0.3).expect("encodes"),
                    &DecodeLimits::default(),
                )
                .expect("decodes");
            }
            "6 dB quieter" => c.apply_gain(0.5),
            "resampled to 22,050 Hz" => c = resample(&c, 22_050).expect("resamples"),
            "ogg vorbis, quieter, 48 kHz" => {
                c.apply_gain(0.7);
                let ogg = encode_ogg_vorbis(&c, 0.5).expect("encodes");
                c = decode(&ogg, &DecodeLimits::default()).expect("decodes");
                c = resample(&c, 48_000).expect("resamples");
            }
            _ => {}
        }
        let found = index.identify(&fingerprint(&c), 3);
        let best = found
            .first()
            .unwrap_or_else(|| panic!("{title} ({change}) not found"));
        assert_eq!(&best.id, title, "{change}: {found:?}");
        assert!(
            (best.span.track_start_seconds - best.span.query_start_seconds - start).abs()
                < 2.0 * ITEM_SECONDS,
            "{title} ({change}) placed at {:?}, cut at {start}",
            best.span
        );
        assert!(
            best.span.duration_seconds > 6.0,
            "{title} ({change}): {:?}",
            best.span
        );
        assert!(best.span.score > 0.6, "{title} ({change}): {:?}", best.span);
        // No other track is mistaken for it.
        assert!(found.iter().skip(1).all(|m| m.span.score < best.span.score));
        assert_eq!(found.len(), 1, "{title} ({change}): {found:?}");
        println!("{title} ({change}): {:?} votes {}", best.span, best.votes);
    }

    // A clip inside other audio: found, and placed in the query too.
    let (title, audio) = &catalog[2];
    let excerpt = audio.excerpt(4.0, 8.0);
    let rate = excerpt.sample_rate();
    let mixed = join(&[&noise(5.0, rate, 7), &excerpt, &noise(4.0, rate, 8)]);
    let found = index.identify(&fingerprint(&mixed), 3);
    let best = found.first().expect("the excerpt is found");
    assert_eq!(&best.id, title);
    assert!(
        (best.span.query_start_seconds - 5.0).abs() < 1.0,
        "{:?}",
        best.span
    );
    assert!(
        (best.span.track_start_seconds - 4.0).abs() < 1.0,
        "{:?}",
        best.span
    );
    assert!(best.span.duration_seconds < 9.5, "{:?}", best.span);

    // Music the index does not hold, noise and silence: nothing.
    let other = index.identify(&fingerprint(&held_out.1.excerpt(3.0, 10.0)), 3);
    assert!(other.is_empty(), "{other:?}");
    let hiss = index.identify(&fingerprint(&noise(10.0, 44_100, 3)), 3);
    assert!(hiss.is_empty(), "{hiss:?}");
    let quiet = Audio::from_planar(vec![vec![0.0; 441_000]], 44_100).expect("silence");
    assert!(index.identify(&fingerprint(&quiet), 3).is_empty());
    // Too short to fingerprint: empty, and matches nothing.
    let blip = fingerprint(&catalog[0].1.excerpt(1.0, 1.0));
    assert!(blip.is_empty() || index.identify(&blip, 3).is_empty());

    // Replacing a track's audio moves its fingerprint; removing it forgets it.
    let (title0, audio0) = &catalog[0];
    let query0 = fingerprint(&audio0.excerpt(6.0, 10.0));
    index.insert(title0, &fingerprint(&held_out.1));
    assert_eq!(index.len(), 5);
    assert!(
        index.identify(&query0, 3).is_empty(),
        "the replaced audio is forgotten"
    );
    let moved = index.identify(&fingerprint(&held_out.1.excerpt(3.0, 10.0)), 3);
    assert_eq!(moved.first().map(|m| m.id.as_str()), Some(title0.as_str()));
    assert!(index.remove(title0));
    assert!(!index.remove(title0), "removing twice is a no-op");
    assert!(
        index
            .identify(&fingerprint(&held_out.1.excerpt(3.0, 10.0)), 3)
            .is_empty()
    );
    assert_eq!(index.len(), 4);
    // Other tracks are still found after the rebuild that removal can cause.
    let (title1, audio1) = &catalog[1];
    let again = index.identify(&fingerprint(&audio1.excerpt(4.0, 10.0)), 3);
    assert_eq!(again.first().map(|m| m.id.as_str()), Some(title1.as_str()));
}

#[test]
fn an_upload_is_probed_and_fingerprinted_in_one_pass() {
    let Some(bank) = bank() else { return };
    let (_, audio) = songs(&bank, 1, 12).remove(0);
    for (format, bytes) in [
        ("wav", encode_wav(&audio)),
        ("ogg", encode_ogg_vorbis(&audio, 0.5).expect("encodes")),
    ] {
        let (info, print) = probe_and_fingerprint(&bytes, 60_000).expect("probes");
        assert_eq!(info, probe(&bytes, 60_000).expect("probes"), "{format}");
        let decoded = decode(&bytes, &DecodeLimits::default()).expect("decodes");
        let direct = fingerprint(&decoded);
        assert!(!print.is_empty(), "{format}");
        let span = align(print.items(), direct.items(), 0).expect("aligned");
        assert!(span.score > 0.99, "{format}: {span:?}");
        assert!(
            (print.duration_seconds() - info.duration_ms as f64 / 1000.0).abs() < 3.0,
            "{format}: {} s of items for {} ms",
            print.duration_seconds(),
            info.duration_ms
        );
        // Stored and read back unchanged.
        let stored = encore_engine::fingerprint::Fingerprint::from_bytes(&print.to_bytes());
        assert_eq!(stored.as_ref(), Some(&print));
    }
    // The same refusals as probe.
    assert!(probe_and_fingerprint(b"not audio at all", 60_000).is_err());
    let long = encode_wav(&audio);
    assert!(matches!(
        probe_and_fingerprint(&long, 1_000),
        Err(encore_engine::ProbeError::TooLong { .. })
    ));
    assert!(encore_engine::fingerprint::Fingerprint::from_bytes(&[1, 2, 3]).is_none());
}

#[test]
fn the_cover_guard_recognises_its_input_and_nothing_else() {
    let Some(bank) = bank() else { return };
    let catalog = songs(&bank, 2, 12);
    let input = GenInput::new(catalog[0].1.clone());
    let guard = FingerprintGuard;
    // The input itself, or a louder, resampled copy of part of it: refused.
    assert!(guard.audio_matches_input(&input, &catalog[0].1));
    let mut copy = resample(&catalog[0].1.excerpt(2.0, 8.0), 44_100).expect("resamples");
    copy.apply_gain(0.8);
    assert!(guard.audio_matches_input(&input, &copy));
    // Another song, noise, silence: allowed.
    assert!(!guard.audio_matches_input(&input, &catalog[1].1));
    assert!(!guard.audio_matches_input(&input, &noise(8.0, 44_100, 11)));
    let quiet = Audio::from_planar(vec![vec![0.0; 441_000]; 2], 44_100).expect("silence");
    assert!(!guard.audio_matches_input(&input, &quiet));
    // A stem of the input counts as the input.
    let with_stem = GenInput::new(catalog[1].1.clone()).with_stem("keys", catalog[0].1.clone());
    assert!(guard.audio_matches_input(&with_stem, &catalog[0].1.excerpt(1.0, 6.0)));
    assert!(compare(&fingerprint(&catalog[1].1), &fingerprint(&catalog[0].1)).is_none());
}
