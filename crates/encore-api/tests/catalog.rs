//! Catalog stories through HTTP, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

mod common;

use reqwest::Method;
use serde_json::json;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../encore-engine/tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

story!(a_label_registers_a_track_and_fans_find_it, |app| {
    let label = app
        .post(
            "/v1/parties",
            &app.admin,
            json!({"name": "Northern Lights Records", "kind": "organisation"}),
        )
        .await;
    let label = label.ok(201)["id"].as_str().unwrap().to_owned();
    let partner = app.key("partner", &[&label]).await;
    let writer = app
        .post("/v1/parties", &partner, json!({"name": "Ivy Marchetti", "kind": "person", "ipi": "523879412", "isni": "0000 0001 2103 2683"}))
        .await;
    let writer = writer.ok(201);
    assert_eq!(writer["ipi"], "00523879412");
    assert_eq!(writer["isni"], "0000000121032683");
    let writer = writer["id"].as_str().unwrap().to_owned();
    let artist = app.party("Mara Quinn", "person").await;

    let work = app
        .post(
            "/v1/works",
            &partner,
            json!({"iswc": "T-034.524.680-1", "title": "Night Drive", "writers": [writer],
                   "splits": [{"party": writer, "share_ppm": 500000}, {"party": label, "share_ppm": 500000}]}),
        )
        .await;
    let work = work.ok(201);
    assert_eq!(work["iswc"], "T-034.524.680-1");
    assert_eq!(work["splits_known"], true);
    let work_id = work["id"].as_str().unwrap().to_owned();

    let rec = app
        .post(
            "/v1/recordings",
            &partner,
            json!({"isrc": "US-RC1-76-07839", "title": "Night Drive", "artists": [artist], "works": [work_id],
                   "duration_ms": 201000, "splits": [{"party": label, "share_ppm": 800000}, {"party": artist, "share_ppm": 200000}]}),
        )
        .await;
    let rec = rec.ok(201);
    assert_eq!(rec["isrc"], "USRC17607839");
    assert_eq!(rec["splits"][0]["share_ppm"], 800000);
    let rec_id = rec["id"].as_str().unwrap().to_owned();

    // Lookups by identifier, in any accepted spelling.
    let fan = app.key("fan", &[]).await;
    let by_isrc = app.get("/v1/recordings/by-isrc/usrc17607839", &fan).await;
    assert_eq!(by_isrc.ok(200)["id"], rec_id.as_str());
    let by_iswc = app.get("/v1/works/by-iswc/T0345246801", &fan).await;
    assert_eq!(by_iswc.ok(200)["id"], work_id.as_str());

    // Splits are private: the fan sees that they are known, not what they are.
    let seen = app.get(&format!("/v1/recordings/{rec_id}"), &fan).await;
    let seen = seen.ok(200);
    assert_eq!(seen["splits_known"], true);
    assert!(seen["splits"].is_null());
    assert_eq!(seen["artists"][0], artist.as_str());
    let artist_key = app.key("artist", &[&artist]).await;
    let own = app
        .get(&format!("/v1/recordings/{rec_id}"), &artist_key)
        .await;
    assert_eq!(own.ok(200)["splits"][1]["share_ppm"], 200000);

    // Search is case-insensitive and treats % and _ literally.
    let found = app.get("/v1/recordings?q=NIGHT", &fan).await;
    assert_eq!(found.ok(200)["items"].as_array().unwrap().len(), 1);
    let none = app.get("/v1/recordings?q=%25", &fan).await;
    assert_eq!(none.ok(200)["items"].as_array().unwrap().len(), 0);
    let parties = app.get("/v1/parties?q=quinn", &fan).await;
    assert_eq!(parties.ok(200)["items"][0]["name"], "Mara Quinn");

    // The owner may edit; a partial patch keeps the rest.
    let patched = app
        .patch(
            &format!("/v1/recordings/{rec_id}"),
            &partner,
            json!({"title": "Night Drive (Remastered)"}),
        )
        .await;
    let patched = patched.ok(200);
    assert_eq!(patched["title"], "Night Drive (Remastered)");
    assert_eq!(patched["works"][0], work_id.as_str());
    assert_eq!(patched["splits"].as_array().unwrap().len(), 2);
    let cleared = app
        .patch(
            &format!("/v1/works/{work_id}"),
            &partner,
            json!({"splits": null}),
        )
        .await;
    assert_eq!(cleared.ok(200)["splits_known"], false);
});

story!(lists_page_with_a_cursor_until_the_end, |app| {
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(app.party(&format!("Party {i}"), "person").await);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/parties?limit=3&cursor={c}"),
            None => "/v1/parties?limit=3".to_owned(),
        };
        let page = app.get(&path, &app.admin).await;
        let page = page.ok(200);
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    app.get("/v1/parties?limit=0", &app.admin)
        .await
        .problem(422, Some("limit"));
    app.get("/v1/parties?limit=abc", &app.admin)
        .await
        .problem(422, None);
});

story!(every_endpoint_needs_a_valid_key, |app| {
    let none = app.call(Method::GET, "/v1/recordings", None, None).await;
    none.problem(401, None);
    let bogus = app.get("/v1/recordings", "enc_0000").await;
    bogus.problem(401, None);
    let fan = app.key("fan", &[]).await;
    let keys = app.get("/v1/keys", &app.admin).await;
    let fan_id = keys.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["role"] == "fan")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get("/v1/me", &fan).await.ok(200);
    let revoked = app
        .call(
            Method::DELETE,
            &format!("/v1/keys/{fan_id}"),
            Some(&app.admin),
            None,
        )
        .await;
    assert!(revoked.ok(200)["revoked_at"].is_string());
    let again = app
        .call(
            Method::DELETE,
            &format!("/v1/keys/{fan_id}"),
            Some(&app.admin),
            None,
        )
        .await;
    again.ok(200);
    app.get("/v1/me", &fan).await.problem(401, None);
    // Operations endpoints are open.
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/docs",
        "/docs/problems",
    ] {
        let a = app.call(Method::GET, path, None, None).await;
        assert_eq!(a.status.as_u16(), 200, "{path}: {}", a.body);
    }
});

story!(roles_and_parties_limit_what_a_key_may_do, |app| {
    let label_a = app.party("Label A", "organisation").await;
    let label_b = app.party("Label B", "organisation").await;
    let a = app.key("partner", &[&label_a]).await;
    let b = app.key("partner", &[&label_b]).await;
    let fan = app.key("fan", &[]).await;
    let rec = app
        .post("/v1/recordings", &a, json!({"isrc": "GBAYE0601498", "title": "Mine", "splits": [{"party": label_a, "share_ppm": 1000000}]}))
        .await;
    let rec_id = rec.ok(201)["id"].as_str().unwrap().to_owned();
    app.post(
        "/v1/recordings",
        &fan,
        json!({"isrc": "GBAYE0601499", "title": "x"}),
    )
    .await
    .problem(403, None);
    app.patch(
        &format!("/v1/recordings/{rec_id}"),
        &b,
        json!({"title": "Stolen"}),
    )
    .await
    .problem(403, None);
    app.put_bytes(
        &format!("/v1/recordings/{rec_id}/audio"),
        &b,
        fixture("tone.wav"),
        "audio/wav",
    )
    .await
    .problem(403, None);
    app.post("/v1/keys", &a, json!({"role": "admin"}))
        .await
        .problem(403, None);
    app.get("/v1/keys", &fan).await.problem(403, None);
    // A shareholder who did not create the recording may edit it too.
    let c = app.key("partner", &[&label_b]).await;
    app.patch(&format!("/v1/recordings/{rec_id}"), &a, json!({"splits": [{"party": label_a, "share_ppm": 500000}, {"party": label_b, "share_ppm": 500000}]}))
        .await
        .ok(200);
    app.patch(
        &format!("/v1/recordings/{rec_id}"),
        &c,
        json!({"title": "Shared"}),
    )
    .await
    .ok(200);
    // Key rules per role.
    let org = label_a.clone();
    app.post(
        "/v1/keys",
        &app.admin,
        json!({"role": "artist", "parties": [org]}),
    )
    .await
    .problem(422, Some("parties[0]"));
    app.post("/v1/keys", &app.admin, json!({"role": "partner"}))
        .await
        .problem(422, Some("parties"));
    app.post("/v1/keys", &app.admin, json!({"role": "overlord"}))
        .await
        .problem(422, Some("role"));
    app.post(
        "/v1/keys",
        &app.admin,
        json!({"role": "partner", "parties": ["par_missing"]}),
    )
    .await
    .problem(422, Some("parties[0]"));
});

story!(bad_catalog_input_is_refused_with_the_field_named, |app| {
    let p1 = app.party("One", "person").await;
    let p2 = app.party("Two", "person").await;
    let admin = app.admin.clone();
    app.post(
        "/v1/recordings",
        &admin,
        json!({"isrc": "US-RC1-76", "title": "x"}),
    )
    .await
    .problem(422, Some("isrc"));
    app.post(
        "/v1/works",
        &admin,
        json!({"iswc": "T-034.524.680-2", "title": "x"}),
    )
    .await
    .problem(422, Some("iswc"));
    app.post("/v1/works", &admin, json!({"title": "x", "splits": [{"party": p1, "share_ppm": 500000}, {"party": p2, "share_ppm": 400000}]}))
        .await
        .problem(422, Some("splits"));
    app.post("/v1/works", &admin, json!({"title": "x", "splits": [{"party": p1, "share_ppm": 500000}, {"party": p1, "share_ppm": 500000}]}))
        .await
        .problem(422, Some("splits[1].party"));
    app.post(
        "/v1/works",
        &admin,
        json!({"title": "x", "splits": [{"party": "par_nobody", "share_ppm": 1000000}]}),
    )
    .await
    .problem(422, Some("splits[0]"));
    app.post("/v1/works", &admin, json!({"title": "", "iswc": "nope"}))
        .await
        .problem(422, Some("title"));
    app.post("/v1/parties", &admin, json!({"name": "x", "kind": "robot"}))
        .await
        .problem(422, Some("kind"));
    app.post(
        "/v1/parties",
        &admin,
        json!({"name": "x", "kind": "person", "isni": "0000000121032684"}),
    )
    .await
    .problem(422, Some("isni"));
    app.post("/v1/parties", &admin, json!({"kind": "person"}))
        .await
        .problem(422, Some("name"));
    app.post(
        "/v1/recordings",
        &admin,
        json!({"isrc": "USRC17607839", "title": 5}),
    )
    .await
    .problem(422, Some("title"));
    app.post(
        "/v1/recordings",
        &admin,
        json!({"isrc": "USRC17607839", "title": "x", "extra": 1}),
    )
    .await
    .problem(422, None);
    app.post(
        "/v1/recordings",
        &admin,
        json!({"isrc": "USRC17607839", "title": "x", "artists": ["par_nobody"]}),
    )
    .await
    .problem(422, Some("artists[0]"));
    // Nothing was half-written by the refused requests.
    let list = app.get("/v1/recordings", &admin).await;
    assert_eq!(list.ok(200)["items"].as_array().unwrap().len(), 0);
    let works = app.get("/v1/works", &admin).await;
    assert_eq!(works.ok(200)["items"].as_array().unwrap().len(), 0);

    // Malformed JSON is a 400 in the same format; a missing content type is a 415.
    let raw = app
        .client
        .post(format!("{}/v1/parties", app.base))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    common::TestApp::answer(raw).await.problem(400, None);
    let plain = app
        .client
        .post(format!("{}/v1/parties", app.base))
        .bearer_auth(&admin)
        .body("{}")
        .send()
        .await
        .unwrap();
    common::TestApp::answer(plain).await.problem(415, None);

    // Unknown ids and paths.
    app.get("/v1/recordings/rec_nope", &admin)
        .await
        .problem(404, None);
    app.get("/v1/works/wrk_nope", &admin)
        .await
        .problem(404, None);
    app.get("/v1/parties/par_nope", &admin)
        .await
        .problem(404, None);
    app.patch("/v1/recordings/rec_nope", &admin, json!({"title": "x"}))
        .await
        .problem(404, None);
    app.get("/v1/recordings/by-isrc/USRC17607840", &admin)
        .await
        .problem(404, None);
    app.get("/v1/recordings/by-isrc/bad", &admin)
        .await
        .problem(422, Some("isrc"));
    app.get("/v1/nothing-here", &admin).await.problem(404, None);
    // PostgreSQL text cannot hold NUL: such ids name nothing and such text is refused.
    app.get("/v1/parties/par_%00", &admin)
        .await
        .problem(404, None);
    app.get("/v1/recordings?q=a%00b", &admin)
        .await
        .problem(422, Some("q"));
    app.post(
        "/v1/parties",
        &admin,
        json!({"name": "a\u{0}b", "kind": "person"}),
    )
    .await
    .problem(422, Some("name"));
    app.post(
        "/v1/recordings",
        &admin,
        json!({"isrc": "USRC17607841", "title": "x", "artists": ["par_\u{0}"]}),
    )
    .await
    .problem(422, Some("artists[0]"));
    app.call(Method::DELETE, "/v1/recordings", Some(&admin), None)
        .await
        .problem(405, None);

    // Duplicates.
    app.post(
        "/v1/recordings",
        &admin,
        json!({"isrc": "USRC17607839", "title": "First"}),
    )
    .await
    .ok(201);
    app.post(
        "/v1/recordings",
        &admin,
        json!({"isrc": "US-RC1-76-07839", "title": "Again"}),
    )
    .await
    .problem(409, Some("isrc"));
    app.post(
        "/v1/works",
        &admin,
        json!({"iswc": "T-034.524.680-1", "title": "W"}),
    )
    .await
    .ok(201);
    app.post(
        "/v1/works",
        &admin,
        json!({"iswc": "T0345246801", "title": "W2"}),
    )
    .await
    .problem(409, Some("iswc"));
    app.post(
        "/v1/parties",
        &admin,
        json!({"name": "A", "kind": "person", "ipi": "523879412"}),
    )
    .await
    .ok(201);
    app.post(
        "/v1/parties",
        &admin,
        json!({"name": "B", "kind": "person", "ipi": "00523879412"}),
    )
    .await
    .problem(409, Some("ipi"));
});

story!(
    audio_in_every_accepted_format_is_decoded_measured_and_stored,
    |app| {
        let label = app.party("Label", "organisation").await;
        let partner = app.key("partner", &[&label]).await;
        let rec = app
        .post("/v1/recordings", &partner, json!({"isrc": "QZDA72600001", "title": "Tone", "splits": [{"party": label, "share_ppm": 1000000}]}))
        .await;
        let rec_id = rec.ok(201)["id"].as_str().unwrap().to_owned();
        for (file, format) in [
            ("tone.wav", "wav"),
            ("tone.flac", "flac"),
            ("tone.mp3", "mp3"),
            ("tone.ogg", "ogg"),
        ] {
            let stem = format!("/v1/recordings/{rec_id}/stems/{format}-stem");
            let put = app
                .put_bytes(&stem, &partner, fixture(file), "application/octet-stream")
                .await;
            let asset = put.ok(200);
            assert_eq!(asset["format"], format, "{file}");
            let ms = asset["duration_ms"].as_i64().unwrap();
            assert!((400..=600).contains(&ms), "{file} measured {ms} ms");
        }
        let mix = app
            .put_bytes(
                &format!("/v1/recordings/{rec_id}/audio"),
                &partner,
                fixture("tone.flac"),
                "audio/flac",
            )
            .await;
        let sha = mix.ok(200)["sha256"].as_str().unwrap().to_owned();
        let rec = app.get(&format!("/v1/recordings/{rec_id}"), &partner).await;
        let rec = rec.ok(200);
        assert_eq!(rec["audio"]["mix"]["sha256"], sha.as_str());
        assert_eq!(rec["audio"]["stems"].as_array().unwrap().len(), 4);

        // The owner and workers download the original; fans may not.
        let download = app
            .client
            .get(format!("{}/v1/recordings/{rec_id}/audio", app.base))
            .bearer_auth(&partner)
            .send()
            .await
            .unwrap();
        assert_eq!(download.status().as_u16(), 200);
        assert_eq!(download.headers()["content-type"], "audio/flac");
        assert_eq!(
            download.bytes().await.unwrap().to_vec(),
            fixture("tone.flac")
        );
        let worker = app.key("worker", &[]).await;
        let stem = app
            .client
            .get(format!(
                "{}/v1/recordings/{rec_id}/stems/mp3-stem",
                app.base
            ))
            .bearer_auth(&worker)
            .send()
            .await
            .unwrap();
        assert_eq!(stem.bytes().await.unwrap().to_vec(), fixture("tone.mp3"));
        let fan = app.key("fan", &[]).await;
        app.get(&format!("/v1/recordings/{rec_id}/audio"), &fan)
            .await
            .problem(403, None);
        app.get(&format!("/v1/recordings/{rec_id}/stems/nope"), &partner)
            .await
            .problem(404, None);

        // Audio that does not decode is refused and nothing is stored.
        let noise: Vec<u8> = (0..50_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        app.put_bytes(
            &format!("/v1/recordings/{rec_id}/stems/bad"),
            &partner,
            noise,
            "audio/wav",
        )
        .await
        .problem(415, None);
        let mut truncated = fixture("tone.flac");
        truncated.truncate(truncated.len() / 2);
        let cut = app
            .put_bytes(
                &format!("/v1/recordings/{rec_id}/stems/cut"),
                &partner,
                truncated,
                "audio/flac",
            )
            .await;
        assert!(matches!(cut.status.as_u16(), 415 | 422), "{}", cut.body);
        app.put_bytes(
            &format!("/v1/recordings/{rec_id}/stems/empty"),
            &partner,
            vec![],
            "audio/wav",
        )
        .await
        .problem(422, Some("body"));
        app.put_bytes(
            &format!("/v1/recordings/{rec_id}/stems/Bad Name"),
            &partner,
            fixture("tone.wav"),
            "audio/wav",
        )
        .await
        .problem(422, Some("name"));
        app.put_bytes(
            "/v1/recordings/rec_nope/audio",
            &app.admin,
            fixture("tone.wav"),
            "audio/wav",
        )
        .await
        .problem(404, None);
        let rec = app.get(&format!("/v1/recordings/{rec_id}"), &partner).await;
        let rec = rec.ok(200);
        assert_eq!(rec["audio"]["stems"].as_array().unwrap().len(), 4);
        assert_eq!(rec["audio"]["mix"]["sha256"], sha.as_str());
    }
);

#[tokio::test]
async fn uploads_over_the_limit_get_413_and_store_nothing() {
    let config = encore_api::ApiConfig {
        audio_body_max_bytes: 10_000,
        json_body_max_bytes: 2_000,
        ..Default::default()
    };
    let app = common::TestApp::spawn_with(common::Db::Sqlite, config)
        .await
        .expect("sqlite");
    let rec = app
        .post(
            "/v1/recordings",
            &app.admin,
            json!({"isrc": "QZDA72600001", "title": "Big"}),
        )
        .await;
    let rec_id = rec.ok(201)["id"].as_str().unwrap().to_owned();
    let put = app
        .put_bytes(
            &format!("/v1/recordings/{rec_id}/audio"),
            &app.admin,
            fixture("tone.wav"),
            "audio/wav",
        )
        .await;
    put.problem(413, None);
    let rec = app
        .get(&format!("/v1/recordings/{rec_id}"), &app.admin)
        .await;
    assert!(rec.ok(200)["audio"]["mix"].is_null());
    let long_title = "x".repeat(5_000);
    app.post(
        "/v1/parties",
        &app.admin,
        json!({"name": long_title, "kind": "person"}),
    )
    .await
    .problem(413, None);
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let doc = encore_api::openapi();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/v1/parties",
        "/v1/parties/{id}",
        "/v1/works",
        "/v1/works/{id}",
        "/v1/works/by-iswc/{iswc}",
        "/v1/recordings",
        "/v1/recordings/{id}",
        "/v1/recordings/by-isrc/{isrc}",
        "/v1/recordings/{id}/audio",
        "/v1/recordings/{id}/stems/{name}",
        "/v1/keys",
        "/v1/keys/{id}",
        "/v1/me",
        "/v1/generators",
        "/v1/generators/{name}",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
}
