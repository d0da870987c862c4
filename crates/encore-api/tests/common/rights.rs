//! A small rights world and the calls the rights stories share (agreements, participation,
//! checks), so each story file keeps only its own defaults.

use serde_json::{Value, json};

use super::TestApp;

/// A label-owned recording of a publisher-owned work, by one artist and one writer, with a
/// partner key for each owner and an artist key for each person.
pub struct World {
    pub label: String,
    pub publisher: String,
    pub artist: String,
    pub writer: String,
    pub work: String,
    /// The recording, "Night Drive" (US-RC1-76-07839).
    pub recording: String,
    pub label_key: String,
    pub publisher_key: String,
    pub artist_key: String,
    pub writer_key: String,
}

pub async fn world(app: &TestApp) -> World {
    let label = app.party("Northern Lights Records", "organisation").await;
    let publisher = app.party("Harbour Songs", "organisation").await;
    let artist = app.party("Mara Quinn", "person").await;
    let writer = app.party("Ivy Marchetti", "person").await;
    let work = app
        .post(
            "/v1/works",
            &app.admin,
            json!({"title": "Night Drive", "writers": [writer],
                   "splits": [{"party": publisher, "share_ppm": 1000000}]}),
        )
        .await;
    let work = work.ok(201)["id"].as_str().expect("id").to_owned();
    let mut w = World {
        label_key: app.key("partner", &[&label]).await,
        publisher_key: app.key("partner", &[&publisher]).await,
        artist_key: app.key("artist", &[&artist]).await,
        writer_key: app.key("artist", &[&writer]).await,
        label,
        publisher,
        artist,
        writer,
        work,
        recording: String::new(),
    };
    w.recording = w.add_recording(app, "US-RC1-76-07839", "Night Drive").await;
    w
}

impl World {
    /// Another recording of the same work by the same artist, owned by the label.
    pub async fn add_recording(&self, app: &TestApp, isrc: &str, title: &str) -> String {
        let rec = app
            .post(
                "/v1/recordings",
                &app.admin,
                json!({"isrc": isrc, "title": title, "artists": [self.artist], "works": [self.work],
                       "splits": [{"party": self.label, "share_ppm": 1000000}]}),
            )
            .await;
        rec.ok(201)["id"].as_str().expect("id").to_owned()
    }
}

/// `base` with every field of `over` replacing its own.
pub fn merged(mut base: Value, over: Value) -> Value {
    if let Some(over) = over.as_object() {
        for (k, v) in over {
            base[k] = v.clone();
        }
    }
    base
}

/// Proposes (as operator) and accepts (as the licensor's partner `key`) an agreement: the
/// licensor's whole catalogue, worldwide, from 2020, with `terms` adding or replacing fields
/// (`uses` at least); returns its id.
pub async fn agree(app: &TestApp, licensor: &str, key: &str, terms: Value) -> String {
    let body = merged(
        json!({
            "licensor": licensor,
            "scope": {"kind": "all"},
            "territories": {"world": true},
            "starts_at": "2020-01-01T00:00:00Z",
        }),
        terms,
    );
    let proposed = app.post("/v1/agreements", &app.admin, body).await;
    let proposed = proposed.ok(201);
    assert_eq!(proposed["status"], "proposed");
    let id = proposed["id"].as_str().expect("id").to_owned();
    let accepted = app
        .post(&format!("/v1/agreements/{id}/accept"), key, json!({}))
        .await;
    assert_eq!(accepted.ok(200)["status"], "accepted");
    id
}

/// Sets `party`'s participation (`uses`: use → choice) with `key`, expecting 200.
pub async fn participate(app: &TestApp, party: &str, key: &str, uses: Value) {
    app.call(
        reqwest::Method::PUT,
        &format!("/v1/parties/{party}/participation"),
        Some(key),
        Some(json!({"uses": uses})),
    )
    .await
    .ok(200);
}

/// A rights check that must answer 200; returns the decision.
pub async fn check(app: &TestApp, key: &str, body: Value) -> Value {
    app.post("/v1/rights/check", key, body)
        .await
        .ok(200)
        .clone()
}
