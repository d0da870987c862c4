//! Identify: every uploaded mix is fingerprinted, and `POST /v1/identify` finds which
//! catalog recordings a clip holds, where and how surely; replaced audio is forgotten; another
//! process sharing the database finds uploads made through this one; mixes stored before
//! fingerprints existed are backfilled; and bad clips and parameters get clear errors.

mod common;

use encore_api::{ApiConfig, AppState};
use encore_blob::BlobStore;
use encore_engine::audio::{Audio, DecodeLimits, decode, encode_ogg_vorbis, encode_wav};
use encore_engine::{DEFAULT_SOUNDFONT_PATH, SoundFontBank, demo_songs, render_song};
use encore_store::{AudioAsset, AudioSlot};
use serde_json::{Value, json};

/// The first `count` demo songs (12 s of music each) as WAV, or `None` without the SoundFont.
fn songs(count: usize) -> Option<Vec<Vec<u8>>> {
    let path = std::path::Path::new(DEFAULT_SOUNDFONT_PATH);
    if !path.exists() {
        eprintln!("skipping: {DEFAULT_SOUNDFONT_PATH} is absent (fluid-soundfont-gm)");
        return None;
    }
    let bank = SoundFontBank::load(path).expect("SoundFont loads");
    Some(
        demo_songs()
            .iter()
            .take(count)
            .map(|spec| render_song(&bank, spec, Some(12)).expect("renders").mix_wav)
            .collect(),
    )
}

/// `seconds` of a WAV from `start`, as Ogg Vorbis (lossy, like a phone recording's upload).
fn clip_ogg(wav: &[u8], start: f64, seconds: f64) -> Vec<u8> {
    let audio = decode(wav, &DecodeLimits::default()).expect("decodes");
    encode_ogg_vorbis(&audio.excerpt(start, seconds), 0.4).expect("encodes")
}

fn noise_wav(seconds: f64) -> Vec<u8> {
    let mut x: u32 = 0x9E37_79B9;
    let s: Vec<f32> = (0..(seconds * 44_100.0) as usize)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x as f32 / u32::MAX as f32 - 0.5) * 0.6
        })
        .collect();
    encode_wav(&Audio::from_planar(vec![s], 44_100).expect("audio"))
}

async fn identify(
    base: &str,
    client: &reqwest::Client,
    key: &str,
    query: &str,
    body: Vec<u8>,
) -> common::Answer {
    let req = client
        .post(format!("{base}/v1/identify{query}"))
        .bearer_auth(key)
        .header("content-type", "audio/ogg")
        .body(body);
    common::TestApp::answer(req.send().await.expect("request")).await
}

fn best(body: &Value) -> &Value {
    &body["matches"][0]
}

story!(identify_finds_catalog_recordings_in_a_clip, |app| {
    let Some(wavs) = songs(4) else { return };
    let label = app.party("Label", "organisation").await;
    let partner = app.key("partner", &[&label]).await;
    let fan = app.key("fan", &[]).await;
    let mut ids = Vec::new();
    for (i, wav) in wavs.iter().take(3).enumerate() {
        let rec = app
            .post(
                "/v1/recordings",
                &partner,
                json!({"isrc": format!("QZDA7260010{i}"), "title": format!("Song {i}"),
                       "splits": [{"party": label, "share_ppm": 1000000}]}),
            )
            .await;
        let id = rec.ok(201)["id"].as_str().expect("id").to_owned();
        app.put_bytes(
            &format!("/v1/recordings/{id}/audio"),
            &partner,
            wav.clone(),
            "audio/wav",
        )
        .await
        .ok(200);
        ids.push(id);
    }
    // A stem is not fingerprinted, so it never shadows the mix.
    app.put_bytes(
        &format!("/v1/recordings/{}/stems/keys", ids[0]),
        &partner,
        wavs[1].clone(),
        "audio/wav",
    )
    .await
    .ok(200);

    // A fan's 8 s clip of the second song, cut 3.3 s in and re-encoded lossy.
    let found = identify(
        &app.base,
        &app.client,
        &fan,
        "",
        clip_ogg(&wavs[1], 3.3, 8.0),
    )
    .await;
    let body = found.ok(200);
    assert_eq!(body["recordings_indexed"], 3, "{body}");
    assert_eq!(body["matches"].as_array().map(Vec::len), Some(1), "{body}");
    let m = best(body);
    assert_eq!(m["recording_id"], ids[1].as_str(), "{body}");
    assert_eq!(m["title"], "Song 1");
    assert_eq!(m["isrc"], "QZDA72600101");
    assert!(
        m["confidence"]
            .as_f64()
            .is_some_and(|c| (0.6..=1.0).contains(&c)),
        "{body}"
    );
    let placed = m["recording_offset_ms"].as_i64().expect("offset")
        - m["clip_offset_ms"].as_i64().expect("clip offset");
    assert!((placed - 3300).abs() <= 250, "{body}");
    assert!(m["duration_ms"].as_u64() >= Some(5000), "{body}");
    assert!(
        (7900..=8100).contains(&body["clip_duration_ms"].as_u64().expect("duration")),
        "{body}"
    );

    // Music that is not in the catalog, and noise: 200 with no matches.
    let other = identify(
        &app.base,
        &app.client,
        &fan,
        "?limit=3",
        clip_ogg(&wavs[3], 2.0, 8.0),
    )
    .await;
    assert_eq!(other.ok(200)["matches"], json!([]));
    let hiss = identify(&app.base, &app.client, &fan, "", noise_wav(6.0)).await;
    assert_eq!(hiss.ok(200)["matches"], json!([]));

    // Bad input: named, never a 500.
    identify(&app.base, &app.client, &fan, "", Vec::new())
        .await
        .problem(422, Some("body"));
    identify(
        &app.base,
        &app.client,
        &fan,
        "",
        b"these bytes are not audio".to_vec(),
    )
    .await
    .problem(415, None);
    identify(
        &app.base,
        &app.client,
        &fan,
        "",
        clip_ogg(&wavs[0], 1.0, 1.5),
    )
    .await
    .problem(422, Some("body"));
    let mut truncated = encode_wav(&decode(&wavs[0], &DecodeLimits::default()).expect("decodes"));
    truncated.truncate(truncated.len() / 2);
    identify(&app.base, &app.client, &fan, "", truncated)
        .await
        .problem(422, Some("body"));
    for limit in ["0", "51", "x"] {
        let a = identify(
            &app.base,
            &app.client,
            &fan,
            &format!("?limit={limit}"),
            clip_ogg(&wavs[1], 3.0, 8.0),
        )
        .await;
        a.problem(422, Some("limit"));
    }
    let anonymous = app
        .client
        .post(format!("{}/v1/identify", app.base))
        .body(clip_ogg(&wavs[1], 3.0, 8.0))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);

    // Replacing a mix replaces its fingerprint: the old audio is no longer found, the new is.
    app.put_bytes(
        &format!("/v1/recordings/{}/audio", ids[1]),
        &partner,
        wavs[3].clone(),
        "audio/wav",
    )
    .await
    .ok(200);
    let old = identify(
        &app.base,
        &app.client,
        &fan,
        "",
        clip_ogg(&wavs[1], 3.3, 8.0),
    )
    .await;
    assert_eq!(old.ok(200)["matches"], json!([]));
    let new = identify(
        &app.base,
        &app.client,
        &fan,
        "",
        clip_ogg(&wavs[3], 2.0, 8.0),
    )
    .await;
    assert_eq!(best(new.ok(200))["recording_id"], ids[1].as_str());

    // Another process on the same database (its own index) finds the same recordings, and
    // fingerprints a mix stored before fingerprints were kept.
    let dir = tempfile::tempdir().expect("temp dir");
    let blobs = BlobStore::open(dir.path().to_str().expect("utf-8")).expect("blobs");
    let other = AppState::new(app.store.clone(), blobs.clone(), ApiConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let router = encore_api::router(other.clone());
    let server = tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    let there = identify(&base, &app.client, &fan, "", clip_ogg(&wavs[2], 4.0, 8.0)).await;
    assert_eq!(best(there.ok(200))["recording_id"], ids[2].as_str());

    // A stored mix that no longer decodes is passed over (with a warning), not retried forever.
    let broken = app
        .post(
            "/v1/recordings",
            &partner,
            json!({"isrc": "QZDA72600198", "title": "Broken old upload", "splits": [{"party": label, "share_ppm": 1000000}]}),
        )
        .await;
    let broken_id = broken.ok(201)["id"].as_str().expect("id").to_owned();
    let garbage = blobs
        .put(bytes::Bytes::from_static(b"not audio any more"))
        .await
        .expect("blob");
    let garbage_asset = AudioAsset {
        slot: AudioSlot::Mix,
        sha256: garbage.sha256,
        size_bytes: 18,
        format: "wav".into(),
        codec: "pcm_s16le".into(),
        sample_rate: 44_100,
        channels: 2,
        duration_ms: 1_000,
        uploaded_by: None,
        uploaded_at_ms: 0,
    };
    app.store
        .put_audio(&broken_id, &garbage_asset, None)
        .await
        .expect("stored without a fingerprint");
    let rec = app
        .post(
            "/v1/recordings",
            &partner,
            json!({"isrc": "QZDA72600199", "title": "Old upload", "splits": [{"party": label, "share_ppm": 1000000}]}),
        )
        .await;
    let old_id = rec.ok(201)["id"].as_str().expect("id").to_owned();
    let blob = blobs
        .put(bytes::Bytes::from(wavs[1].clone()))
        .await
        .expect("blob");
    let asset = AudioAsset {
        slot: AudioSlot::Mix,
        sha256: blob.sha256,
        size_bytes: i64::try_from(blob.size_bytes).expect("size"),
        format: "wav".into(),
        codec: "pcm_s16le".into(),
        sample_rate: 44_100,
        channels: 2,
        duration_ms: 12_000,
        uploaded_by: None,
        uploaded_at_ms: 0,
    };
    app.store
        .put_audio(&old_id, &asset, None)
        .await
        .expect("stored without a fingerprint");
    let before = identify(&base, &app.client, &fan, "", clip_ogg(&wavs[1], 3.3, 8.0)).await;
    assert_eq!(before.ok(200)["matches"], json!([]));
    assert_eq!(
        encore_api::identify::backfill(&other)
            .await
            .expect("backfill"),
        1
    );
    assert_eq!(
        encore_api::identify::backfill(&other)
            .await
            .expect("backfill"),
        0,
        "done once"
    );
    let after = identify(&base, &app.client, &fan, "", clip_ogg(&wavs[1], 3.3, 8.0)).await;
    assert_eq!(best(after.ok(200))["recording_id"], old_id.as_str());
    // ... and this process, which did not backfill, finds it too.
    let here = identify(
        &app.base,
        &app.client,
        &fan,
        "",
        clip_ogg(&wavs[1], 3.3, 8.0),
    )
    .await;
    assert_eq!(best(here.ok(200))["recording_id"], old_id.as_str());
    server.abort();

    // The endpoint is in the OpenAPI document.
    let doc: Value = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert!(doc["paths"]["/v1/identify"]["post"].is_object());
});
