//! Model stories through HTTP, on SQLite and PostgreSQL: registration, clearance from the
//! training set's `train` consent, and models in rights checks.
#![allow(clippy::unwrap_used)]

mod common;

use serde_json::{Value, json};

use common::rights::{check, participate, world};

/// An accepted worldwide agreement for `uses`; returns its id.
async fn agree(app: &common::TestApp, licensor: &str, key: &str, uses: Value) -> String {
    common::rights::agree(app, licensor, key, json!({"uses": uses})).await
}

async fn register(app: &common::TestApp, body: Value) -> Value {
    app.post("/v1/models", &app.admin, body)
        .await
        .ok(201)
        .clone()
}

fn codes(decision: &Value) -> Vec<String> {
    decision["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

/// The reasons that are about the model input.
fn model_reasons(decision: &Value) -> Vec<&Value> {
    decision["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["input"]["kind"] == "model")
        .collect()
}

story!(
    a_model_trained_on_nothing_is_cleared_and_must_support_the_use,
    |app| {
        let w = world(&app).await;
        let fan = app.key("fan", &[]).await;
        let m = register(
            &app,
            json!({"name": "Clean Room", "uses": ["remix", "extend"], "training": {"none": true}}),
        )
        .await;
        let id = m["id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("mdl_"), "{m}");
        assert_eq!(m["cleared"], true, "{m}");
        assert!(m.get("reasons").is_none(), "{m}");
        assert_eq!(m["training"], json!({"none": true}));
        assert_eq!(m["uses"], json!(["remix", "extend"]));

        // Any key reads it and lists it.
        let page = app.get(&format!("/v1/models/{id}"), &fan).await;
        assert_eq!(page.ok(200)["cleared"], true);
        let list = app.get("/v1/models", &fan).await;
        assert_eq!(list.ok(200)["items"][0]["id"], id.as_str());

        // A supported use: the model adds no reason (the catalog's own reasons remain).
        let d = check(
            &app,
            &fan,
            json!({"use": "remix", "recordings": [w.recording], "territory": "US", "model": id}),
        )
        .await;
        assert!(model_reasons(&d).is_empty(), "{d}");
        assert!(codes(&d).contains(&"NO_AGREEMENT".to_owned()), "{d}");

        // With every consent for remix, the check with the model is allowed.
        agree(&app, &w.label, &w.label_key, json!(["remix"])).await;
        agree(&app, &w.publisher, &w.publisher_key, json!(["remix"])).await;
        participate(&app, &w.artist, &w.artist_key, json!({"remix": "allow"})).await;
        participate(&app, &w.writer, &w.writer_key, json!({"remix": "allow"})).await;
        let d = check(
            &app,
            &fan,
            json!({"use": "remix", "recordings": [w.recording], "territory": "US", "model": id}),
        )
        .await;
        assert_eq!(d["allowed"], true, "{d}");

        // An unsupported use is refused because of the model.
        let d = check(
            &app,
            &fan,
            json!({"use": "sample", "recordings": [w.recording], "territory": "US", "model": id}),
        )
        .await;
        assert_eq!(d["allowed"], false, "{d}");
        let about_model = model_reasons(&d);
        assert_eq!(about_model.len(), 1, "{d}");
        assert_eq!(about_model[0]["code"], "MODEL_USE_UNSUPPORTED");
        assert_eq!(about_model[0]["input"]["id"], id.as_str());

        // An unknown model is a reason, never an error.
        for bad in ["mdl_nope", "", "mdl_\u{0}x"] {
            let d = check(
            &app,
            &fan,
            json!({"use": "remix", "recordings": [w.recording], "territory": "US", "model": bad}),
        )
        .await;
            assert_eq!(d["allowed"], false, "{d}");
            assert_eq!(codes(&d), vec!["INPUT_NOT_FOUND".to_owned()], "{d}");
        }
        app.get("/v1/models/mdl_nope", &fan)
            .await
            .problem(404, None);
        app.get("/v1/models/mdl_%00", &fan).await.problem(404, None);
    }
);

story!(clearance_follows_train_consent_of_the_training_set, |app| {
    let w = world(&app).await;
    let fan = app.key("fan", &[]).await;
    let m = register(
        &app,
        json!({"name": "Night Tuned", "uses": ["remix"],
               "training": {"recordings": [w.recording]}}),
    )
    .await;
    let id = m["id"].as_str().unwrap().to_owned();
    let page = format!("/v1/models/{id}");

    // No `train` consent yet: not cleared, and the page says why.
    assert_eq!(m["cleared"], false, "{m}");
    let reasons = m["reasons"].as_array().unwrap();
    assert!(
        reasons
            .iter()
            .any(|r| r["code"] == "NO_AGREEMENT" && r["party"] == w.label.as_str()),
        "{m}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r["code"] == "PARTICIPATION_MISSING" && r["party"] == w.artist.as_str()),
        "{m}"
    );
    assert_eq!(reasons[0]["input"]["id"], w.recording.as_str(), "{m}");
    let remix =
        json!({"use": "remix", "recordings": [w.recording], "territory": "US", "model": id});
    let d = check(&app, &fan, remix.clone()).await;
    let about_model = model_reasons(&d);
    assert_eq!(about_model.len(), 1, "{d}");
    assert_eq!(about_model[0]["code"], "MODEL_NOT_CLEARED");
    assert_eq!(about_model[0]["item"]["id"], w.recording.as_str());

    // The owners agree to train and the people allow it: cleared.
    let label_train = agree(&app, &w.label, &w.label_key, json!(["remix", "train"])).await;
    agree(
        &app,
        &w.publisher,
        &w.publisher_key,
        json!(["remix", "train"]),
    )
    .await;
    let both = json!({"remix": "allow", "train": "allow"});
    participate(&app, &w.artist, &w.artist_key, both.clone()).await;
    participate(&app, &w.writer, &w.writer_key, both).await;
    let now = app.get(&page, &fan).await;
    let now = now.ok(200);
    assert_eq!(now["cleared"], true, "{now}");
    assert!(now.get("reasons").is_none(), "{now}");
    let d = check(&app, &fan, remix.clone()).await;
    assert_eq!(d["allowed"], true, "{d}");
    // The stored decision keeps the `train` choices its model's clearance rested on.
    let stored = app
        .get(
            &format!("/v1/decisions/{}", d["id"].as_str().unwrap()),
            &fan,
        )
        .await;
    let snapshot = &stored.ok(200)["snapshot"];
    let artist = &snapshot["participation"][w.artist.as_str()];
    assert_eq!(artist["default"], "allow", "{snapshot}");
    assert_eq!(artist["train"]["default"], "allow", "{snapshot}");
    assert!(snapshot["train_rule"].is_object(), "{snapshot}");

    // Revoking the label's agreement makes the model uncleared at once.
    app.post(
        &format!("/v1/agreements/{label_train}/revoke"),
        &w.label_key,
        json!({}),
    )
    .await
    .ok(200);
    let now = app.get(&page, &fan).await;
    let now = now.ok(200);
    assert_eq!(now["cleared"], false, "{now}");
    assert!(
        now["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["code"] == "AGREEMENT_REVOKED" && r["party"] == w.label.as_str()),
        "{now}"
    );
    let d = check(&app, &fan, remix).await;
    assert!(
        model_reasons(&d)
            .iter()
            .any(|r| r["code"] == "MODEL_NOT_CLEARED"),
        "{d}"
    );

    // Registration is in the audit log.
    let log = app.get("/v1/audit", &app.admin).await;
    let log = log.ok(200)["items"].as_array().unwrap().clone();
    let entry = log
        .iter()
        .find(|e| e["action"] == "model.register")
        .unwrap();
    assert_eq!(entry["subject_id"], id.as_str(), "{entry}");
    // It concerns everyone behind the training set, who can each read it.
    for (party, key) in [
        (&w.label, &w.label_key),
        (&w.publisher, &w.publisher_key),
        (&w.artist, &w.artist_key),
        (&w.writer, &w.writer_key),
    ] {
        assert!(
            entry["parties"].as_array().unwrap().contains(&json!(party)),
            "{party}: {entry}"
        );
        let theirs = app.get("/v1/audit", key).await;
        let theirs = theirs.ok(200)["items"].as_array().unwrap().clone();
        assert!(
            theirs
                .iter()
                .any(|e| e["action"] == "model.register" && e["subject_id"] == id.as_str()),
            "{party} cannot read the model's entry"
        );
    }
    let stranger = app.key("fan", &[]).await;
    let none = app.get("/v1/audit", &stranger).await;
    assert!(
        !none.ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["subject_id"] == id.as_str()),
        "a key of no party reads the model's entry"
    );
});

story!(
    bad_registrations_are_422_and_only_operators_register,
    |app| {
        let w = world(&app).await;
        let ok = json!({"name": "M", "uses": ["remix"], "training": {"none": true}});
        let fan = app.key("fan", &[]).await;
        for key in [&fan, &w.label_key, &w.artist_key] {
            app.post("/v1/models", key, ok.clone())
                .await
                .problem(403, None);
        }
        let bad = app
            .post(
                "/v1/models",
                &app.admin,
                json!({"name": "M", "uses": ["remix", "dance"], "training": {"none": true}}),
            )
            .await;
        bad.problem(422, Some("uses[1]"));
        let bad = app
            .post(
                "/v1/models",
                &app.admin,
                json!({"name": "M", "uses": [], "training": {"none": true}}),
            )
            .await;
        bad.problem(422, Some("uses"));
        let bad = app
        .post(
            "/v1/models",
            &app.admin,
            json!({"name": "M", "uses": ["train"],
                   "training": {"recordings": [w.recording, "rec_nope", "rec_\u{0}"], "works": ["wrk_nope"]}}),
        )
        .await;
        bad.problem(422, Some("training.recordings[1]"));
        bad.problem(422, Some("training.recordings[2]"));
        bad.problem(422, Some("training.works[0]"));
        for training in [
            json!({}),
            json!({"none": true, "recordings": []}),
            json!({"none": false}),
        ] {
            let bad = app
                .post(
                    "/v1/models",
                    &app.admin,
                    json!({"name": "M", "uses": ["remix"], "training": training}),
                )
                .await;
            bad.problem(422, Some("training"));
        }
        let bad = app
            .post(
                "/v1/models",
                &app.admin,
                json!({"name": " ", "uses": ["remix"], "training": {"none": true}}),
            )
            .await;
        bad.problem(422, Some("name"));
        // Nothing was stored by the refused requests.
        let list = app.get("/v1/models", &app.admin).await;
        assert_eq!(list.ok(200)["items"], json!([]));
    }
);

/// The decision and snapshot stored for `body`, asked twice with nothing written between: the
/// first check after a write loads what it reads from the database, the second decides from
/// the store's in-memory copies in place. Both must answer and record exactly the same.
async fn decided_twice_alike(app: &common::TestApp, key: &str, mut body: Value) -> Value {
    // The same moment both times, so that the stored requests are equal too.
    body["at"] = json!("2026-06-01T00:00:00Z");
    let mut stored = Vec::new();
    for _ in 0..2 {
        let d = check(app, key, body.clone()).await;
        let got = app
            .get(&format!("/v1/decisions/{}", d["id"].as_str().unwrap()), key)
            .await
            .ok(200)
            .clone();
        stored.push(got);
    }
    for field in ["decision", "snapshot", "request"] {
        assert_eq!(
            stored[0][field], stored[1][field],
            "{field} differs for {body}"
        );
    }
    stored.pop().unwrap()
}

story!(
    decisions_from_loaded_facts_and_from_copies_in_place_agree,
    |app| {
        let w = world(&app).await;
        let fan = app.key("fan", &[]).await;
        let second = w
            .add_recording(&app, "US-RC1-76-07840", "Night Drive (Live)")
            .await;
        agree(
            &app,
            &w.label,
            &w.label_key,
            json!(["remix", "mashup", "voice", "train"]),
        )
        .await;
        // Another of the label's agreements, listing only the second recording.
        common::rights::agree(
            &app,
            &w.label,
            &w.label_key,
            json!({"uses": ["remix"], "scope": {"kind": "recordings", "items": [second]}}),
        )
        .await;
        agree(
            &app,
            &w.publisher,
            &w.publisher_key,
            json!(["remix", "mashup", "train"]),
        )
        .await;
        app.call(
        reqwest::Method::PUT,
        &format!("/v1/parties/{}/participation", w.artist),
        Some(&w.artist_key),
        Some(json!({"uses": {"remix": "allow", "mashup": "approve", "voice": "allow", "train": "allow"},
                    "overrides": [{"use": "remix", "recording": second, "choice": "deny"},
                                  {"use": "train", "work": w.work, "choice": "deny"}]})),
    )
    .await
    .ok(200);
        let m = register(
            &app,
            json!({"name": "Studio", "uses": ["remix"], "training": {"recordings": [w.recording]}}),
        )
        .await;
        let model = m["id"].as_str().unwrap();
        for body in [
            json!({"use": "remix", "recordings": [second], "territory": "US"}),
            json!({"use": "mashup", "recordings": [w.recording, second, w.recording], "territory": "FR"}),
            json!({"use": "voice", "artist": w.artist, "territory": "GB"}),
            json!({"use": "remix", "recordings": [w.recording], "territory": "US", "model": model}),
            json!({"use": "remix", "works": [w.work], "recordings": ["rec_missing"], "territory": "US"}),
        ] {
            let stored = decided_twice_alike(&app, &fan, body.clone()).await;
            assert!(stored["snapshot"]["use_rule"].is_object(), "{stored}");
        }
        // The overrides in a snapshot are narrowed to the items judged, from either path.
        let stored = decided_twice_alike(
            &app,
            &fan,
            json!({"use": "remix", "recordings": [second], "territory": "US", "model": model}),
        )
        .await;
        let artist = &stored["snapshot"]["participation"][w.artist.as_str()];
        assert_eq!(artist["recordings"][second.as_str()], "deny", "{stored}");
        assert_eq!(
            artist["train"]["works"][w.work.as_str()],
            "deny",
            "{stored}"
        );
        assert_eq!(stored["decision"]["allowed"], false, "{stored}");
    }
);
