//! Audit log and stored decision stories through HTTP, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

mod common;

use serde_json::{Value, json};

async fn entries(app: &common::TestApp, key: &str, query: &str) -> Vec<Value> {
    let a = app.get(&format!("/v1/audit{query}"), key).await;
    a.ok(200)["items"].as_array().unwrap().clone()
}

story!(changes_are_logged_with_who_before_and_after, |app| {
    let label = app.party("Northern Lights Records", "organisation").await;
    let other = app.party("Harbour Songs", "organisation").await;
    let artist = app.party("Mara Quinn", "person").await;
    let label_key = app.key("partner", &[&label]).await;
    let other_key = app.key("partner", &[&other]).await;
    let artist_key = app.key("artist", &[&artist]).await;
    let fan = app.key("fan", &[]).await;
    let me = app.get("/v1/me", &label_key).await;
    let label_key_id = me.ok(200)["id"].as_str().unwrap().to_owned();

    let proposed = app
        .post(
            "/v1/agreements",
            &app.admin,
            json!({"licensor": label, "scope": {"kind": "all"}, "uses": ["remix"],
                   "territories": {"world": true}}),
        )
        .await;
    let agreement = proposed.ok(201)["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/v1/agreements/{agreement}/accept"),
        &label_key,
        json!({}),
    )
    .await
    .ok(200);
    app.post(
        &format!("/v1/agreements/{agreement}/revoke"),
        &label_key,
        json!({}),
    )
    .await
    .ok(200);
    // Revoking again changes nothing and logs nothing.
    app.post(
        &format!("/v1/agreements/{agreement}/revoke"),
        &label_key,
        json!({}),
    )
    .await
    .ok(200);
    app.call(
        reqwest::Method::PUT,
        &format!("/v1/parties/{artist}/participation"),
        Some(&artist_key),
        Some(json!({"uses": {"remix": "allow"}})),
    )
    .await
    .ok(200);

    let all = entries(&app, &app.admin, "").await;
    let actions: Vec<&str> = all.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "agreement.propose",
            "agreement.accept",
            "agreement.revoke",
            "participation.set"
        ]
    );
    assert_eq!(all[0]["before"], Value::Null);
    assert_eq!(all[0]["after"]["status"], "proposed");
    assert_eq!(all[1]["key_id"], label_key_id.as_str());
    assert_eq!(all[1]["subject_id"], agreement.as_str());
    assert_eq!(all[1]["before"]["status"], "proposed");
    assert_eq!(all[1]["after"]["status"], "accepted");
    assert_eq!(all[2]["after"]["status"], "revoked");
    assert_eq!(all[3]["parties"], json!([artist]));
    assert_eq!(all[3]["after"]["uses"]["remix"]["default"], "allow");
    assert_eq!(all[0]["prev_hash"], "0".repeat(64));
    assert_eq!(all[1]["prev_hash"], all[0]["hash"]);
    assert_eq!(
        all.iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );

    // Pages follow `after`.
    let page = app.get("/v1/audit?limit=2", &app.admin).await;
    let page = page.ok(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["next_after"], 2);
    let rest = entries(&app, &app.admin, "?after=2&limit=2").await;
    assert_eq!(rest[0]["seq"], 3);

    // A partner reads the entries of its parties only; a fan and another partner none.
    let mine = entries(&app, &label_key, "").await;
    assert_eq!(mine.len(), 3, "{mine:?}");
    assert!(mine.iter().all(|e| e["parties"] == json!([label])));
    assert_eq!(entries(&app, &artist_key, "").await.len(), 1);
    assert!(entries(&app, &other_key, "").await.is_empty());
    assert!(entries(&app, &fan, "").await.is_empty());

    // Bad pages are 422.
    app.get("/v1/audit?limit=0", &app.admin)
        .await
        .problem(422, Some("limit"));
    app.get("/v1/audit?limit=201", &app.admin)
        .await
        .problem(422, Some("limit"));
    assert_eq!(app.store.verify_audit().await.unwrap().entries, 4);
    assert!(app.store.verify_audit().await.unwrap().ok);
});

story!(decisions_are_stored_and_shown_to_their_asker, |app| {
    let label = app.party("Northern Lights Records", "organisation").await;
    let rec = app
        .post(
            "/v1/recordings",
            &app.admin,
            json!({"isrc": "US-RC1-76-07839", "title": "Night Drive",
                   "splits": [{"party": label, "share_ppm": 1000000}]}),
        )
        .await;
    let recording = rec.ok(201)["id"].as_str().unwrap().to_owned();
    let label_key = app.key("partner", &[&label]).await;
    let proposed = app
        .post(
            "/v1/agreements",
            &app.admin,
            json!({"licensor": label, "scope": {"kind": "all"}, "uses": ["remix"],
                   "territories": {"world": true}, "starts_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    let agreement = proposed.ok(201)["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/v1/agreements/{agreement}/accept"),
        &label_key,
        json!({}),
    )
    .await
    .ok(200);

    let fan = app.key("fan", &[]).await;
    let other_fan = app.key("fan", &[]).await;
    let d = app
        .post(
            "/v1/rights/check",
            &fan,
            json!({"use": "remix", "recordings": [recording], "territory": "US"}),
        )
        .await;
    let d = d.ok(200).clone();
    let id = d["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("dec_"), "{d}");

    let stored = app.get(&format!("/v1/decisions/{id}"), &fan).await;
    let stored = stored.ok(200);
    assert_eq!(stored["id"], id.as_str());
    assert_eq!(stored["request"]["use"], "remix");
    assert_eq!(stored["request"]["recordings"], json!([recording]));
    assert_eq!(stored["decision"]["allowed"], d["allowed"]);
    assert_eq!(stored["decision"]["reasons"], d["reasons"]);
    assert_eq!(
        stored["snapshot"]["agreements"][0]["id"],
        agreement.as_str()
    );
    assert_eq!(stored["snapshot"]["agreements"][0]["status"], "accepted");

    app.get(&format!("/v1/decisions/{id}"), &app.admin)
        .await
        .ok(200);
    app.get(&format!("/v1/decisions/{id}"), &other_fan)
        .await
        .problem(404, None);
    app.get("/v1/decisions/dec_nothing", &fan)
        .await
        .problem(404, None);

    // Many checks at once are written together (group commit): each answer's id is its own,
    // and each is stored before it is returned. On SQLite the writer may move between its two
    // decision files after every few decisions here.
    app.store.set_decision_file_turn(4);
    let checks = (0..120).map(|i| {
        let (app, fan, recording) = (&app, &fan, &recording);
        async move {
            let territory = if i % 2 == 0 { "US" } else { "FR" };
            let d = app
                .post(
                    "/v1/rights/check",
                    fan,
                    json!({"use": "remix", "recordings": [recording], "territory": territory}),
                )
                .await;
            d.ok(200)["id"].as_str().unwrap().to_owned()
        }
    });
    let ids: Vec<String> = futures::future::join_all(checks).await;
    let distinct: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len());
    for id in &ids {
        let stored = app.get(&format!("/v1/decisions/{id}"), &fan).await;
        assert_eq!(stored.ok(200)["id"], id.as_str());
    }
    // On SQLite, each decision is in exactly one of the two files. (Which one depends on when
    // the background task readies the other file; decision_files.rs tests the turns.)
    let mut found = Vec::new();
    for path in app.store.decision_file_paths() {
        let url = format!("sqlite://{}", path.display());
        let mut file = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        let in_file: Vec<String> = sqlx::query_scalar("SELECT id FROM decisions")
            .fetch_all(&mut file)
            .await
            .unwrap();
        found.push(
            in_file
                .into_iter()
                .collect::<std::collections::HashSet<_>>(),
        );
    }
    if let [first, second] = &found[..] {
        for id in &ids {
            assert!(
                first.contains(id) != second.contains(id),
                "{id} in exactly one file"
            );
        }
    }
});

story!(concurrent_changes_keep_one_unbroken_chain, |app| {
    let mut people = Vec::new();
    for i in 0..8 {
        people.push(app.party(&format!("Person {i}"), "person").await);
    }
    let mut calls = tokio::task::JoinSet::new();
    for p in &people {
        let req = app
            .client
            .put(format!("{}/v1/parties/{p}/participation", app.base))
            .bearer_auth(&app.admin)
            .json(&json!({"uses": {"remix": "allow"}}));
        calls.spawn(async move { req.send().await.unwrap().status().as_u16() });
    }
    while let Some(status) = calls.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    let report = app.store.verify_audit().await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.entries, 8);
});
