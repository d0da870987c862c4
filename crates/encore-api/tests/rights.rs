//! Rights stories through HTTP, on SQLite and PostgreSQL: agreements, participation, decisions.
#![allow(clippy::unwrap_used)]

mod common;

use serde_json::{Value, json};

use common::rights::{check, merged, participate, world};

/// An accepted agreement for remix, extend and sample with a remix rate, `extra` replacing
/// any field; returns its id.
async fn agree(app: &common::TestApp, licensor: &str, key: &str, extra: Value) -> String {
    let terms = json!({
        "uses": ["remix", "extend", "sample"],
        "rates": {"remix": {"creation_fee_micros": 500000, "per_stream_micros": 1000, "currency": "USD"}},
    });
    common::rights::agree(app, licensor, key, merged(terms, extra)).await
}

/// The `(code, party)` pairs of a decision's reasons.
fn reasons(decision: &Value) -> Vec<(String, String)> {
    decision["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap().to_owned(),
                r["party"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn has(decision: &Value, code: &str, party: &str) -> bool {
    reasons(decision)
        .iter()
        .any(|(c, p)| c == code && p == party)
}

story!(default_is_deny_with_every_reason_named, |app| {
    let w = world(&app).await;
    let fan = app.key("fan", &[]).await;
    let d = check(
        &app,
        &fan,
        json!({"use": "remix", "recordings": [w.recording], "territory": "US"}),
    )
    .await;
    assert_eq!(d["allowed"], false, "{d}");
    assert!(has(&d, "NO_AGREEMENT", &w.label), "{d}");
    assert!(has(&d, "NO_AGREEMENT", &w.publisher), "{d}");
    assert!(has(&d, "PARTICIPATION_MISSING", &w.artist), "{d}");
    assert!(has(&d, "PARTICIPATION_MISSING", &w.writer), "{d}");
    assert_eq!(d["reasons"][0]["input"]["kind"], "recording");
    assert_eq!(d["reasons"][0]["input"]["id"], w.recording.as_str());

    // Unknown inputs are reasons, not errors.
    let d = check(
        &app,
        &fan,
        json!({"use": "cover", "works": ["wrk_nope"], "recordings": ["rec_nope"], "territory": "WW"}),
    )
    .await;
    assert_eq!(d["allowed"], false);
    let codes: Vec<String> = reasons(&d).into_iter().map(|(c, _)| c).collect();
    assert!(codes.iter().all(|c| c == "INPUT_NOT_FOUND"), "{d}");
    assert_eq!(codes.len(), 2, "{d}");
    let voice = check(&app, &fan, json!({"use": "voice", "territory": "US"})).await;
    assert_eq!(voice["reasons"][0]["code"], "INPUT_MISSING");

    // No combination of odd inputs is a server error, on either engine.
    let odd = [
        "",
        "\u{0}",
        "rec_\u{0}x",
        "'; DROP TABLE parties; --",
        "%",
        &w.recording,
        &w.work,
    ];
    for use_type in [
        "remix", "mashup", "extend", "sample", "cover", "voice", "train",
    ] {
        for (i, id) in odd.iter().enumerate() {
            let other = odd[(i + 3) % odd.len()];
            let body = json!({"use": use_type, "recordings": [id, other, id], "works": [other, id],
                              "artist": id, "territory": "WW", "at": "0001-01-01T00:00:00Z"});
            let d = check(&app, &fan, body).await;
            assert_eq!(d["allowed"], false, "{d}");
        }
    }
    app.get("/v1/agreements/agr_%00", &fan)
        .await
        .problem(404, None);
    app.get("/v1/recordings/rec_%00/uses?territory=US", &fan)
        .await
        .problem(404, None);
});

story!(consent_allows_then_a_denial_or_revocation_refuses, |app| {
    let w = world(&app).await;
    let label_agreement = agree(&app, &w.label, &w.label_key, json!({})).await;
    agree(&app, &w.publisher, &w.publisher_key, json!({})).await;
    let fan = app.key("fan", &[]).await;
    let remix = json!({"use": "remix", "recordings": [w.recording], "territory": "US"});

    // Owners agreed, people have not opted in yet.
    let d = check(&app, &fan, remix.clone()).await;
    assert_eq!(reasons(&d).len(), 2, "{d}");
    assert!(has(&d, "PARTICIPATION_MISSING", &w.artist), "{d}");

    participate(&app, &w.artist, &w.artist_key, json!({"remix": "allow"})).await;
    participate(&app, &w.writer, &w.writer_key, json!({"remix": "approve"})).await;
    let d = check(&app, &fan, remix.clone()).await;
    assert_eq!(d["allowed"], true, "{d}");
    assert_eq!(d["approvals_required"], json!([w.writer]));
    let stored = app
        .get(
            &format!("/v1/parties/{}/participation", w.writer),
            &w.writer_key,
        )
        .await;
    assert_eq!(stored.ok(200)["uses"]["remix"], "approve");

    // A use the agreements do not license.
    let cover = check(
        &app,
        &fan,
        json!({"use": "train", "recordings": [w.recording], "territory": "US"}),
    )
    .await;
    assert!(has(&cover, "USE_NOT_LICENSED", &w.label), "{cover}");

    // One "no" from a person wins.
    participate(&app, &w.artist, &w.artist_key, json!({"remix": "deny"})).await;
    let d = check(&app, &fan, remix.clone()).await;
    assert_eq!(d["allowed"], false);
    assert!(has(&d, "PARTICIPATION_DENIED", &w.artist), "{d}");
    participate(&app, &w.artist, &w.artist_key, json!({"remix": "allow"})).await;

    // Revocation by the licensor takes effect at once; revoking again is harmless.
    let path = format!("/v1/agreements/{label_agreement}/revoke");
    let revoked = app.post(&path, &w.label_key, json!({})).await;
    let revoked = revoked.ok(200);
    assert_eq!(revoked["status"], "revoked");
    let first = revoked["revoked_at"].clone();
    let again = app.post(&path, &app.admin, json!({})).await;
    assert_eq!(again.ok(200)["revoked_at"], first);
    let d = check(&app, &fan, remix.clone()).await;
    assert_eq!(d["allowed"], false);
    assert!(has(&d, "AGREEMENT_REVOKED", &w.label), "{d}");
    let reason = d["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "AGREEMENT_REVOKED")
        .unwrap();
    assert_eq!(reason["agreement"], label_agreement.as_str());

    // Only the licensor's keys and operators see an agreement.
    let seen = app
        .get(&format!("/v1/agreements/{label_agreement}"), &w.label_key)
        .await;
    assert_eq!(seen.ok(200)["licensor"], w.label.as_str());
    app.get(&format!("/v1/agreements/{label_agreement}"), &fan)
        .await
        .problem(404, None);
    app.get(
        &format!("/v1/agreements/{label_agreement}"),
        &w.publisher_key,
    )
    .await
    .problem(404, None);
});

story!(territory_and_window_are_reasons, |app| {
    let w = world(&app).await;
    agree(
        &app,
        &w.label,
        &w.label_key,
        json!({"territories": {"world": true, "exclude": ["FR"]}, "ends_at": "2030-01-01T00:00:00Z"}),
    )
    .await;
    agree(
        &app,
        &w.publisher,
        &w.publisher_key,
        json!({"territories": {"include": ["US", "GB"]}}),
    )
    .await;
    participate(&app, &w.artist, &w.artist_key, json!({"remix": "allow"})).await;
    participate(&app, &w.writer, &w.writer_key, json!({"remix": "allow"})).await;
    let fan = app.key("fan", &[]).await;

    let at = |territory: &str, at: &str| json!({"use": "remix", "recordings": [w.recording], "territory": territory, "at": at});
    let d = check(&app, &fan, at("US", "2026-06-01T00:00:00Z")).await;
    assert_eq!(d["allowed"], true, "{d}");
    let d = check(&app, &fan, at("FR", "2026-06-01T00:00:00Z")).await;
    assert!(has(&d, "TERRITORY_EXCLUDED", &w.label), "{d}");
    assert!(has(&d, "TERRITORY_EXCLUDED", &w.publisher), "{d}");
    let d = check(&app, &fan, at("GB", "2031-06-01T00:00:00Z")).await;
    assert_eq!(
        reasons(&d),
        vec![("OUTSIDE_WINDOW".to_owned(), w.label.clone())]
    );
    let d = check(&app, &fan, at("US", "2019-06-01T00:00:00Z")).await;
    assert!(has(&d, "OUTSIDE_WINDOW", &w.label), "{d}");
    assert!(has(&d, "OUTSIDE_WINDOW", &w.publisher), "{d}");
});

story!(bad_input_is_refused_with_the_field_named, |app| {
    let w = world(&app).await;
    let fan = app.key("fan", &[]).await;
    let bad_use = app
        .post(
            "/v1/rights/check",
            &fan,
            json!({"use": "stream", "recordings": [w.recording], "territory": "US"}),
        )
        .await;
    bad_use.problem(422, Some("use"));
    let bad_territory = app
        .post(
            "/v1/rights/check",
            &fan,
            json!({"use": "remix", "recordings": [w.recording], "territory": "XX"}),
        )
        .await;
    bad_territory.problem(422, Some("territory"));

    let proposal = |extra: Value| {
        let mut body = json!({"licensor": w.label, "scope": {"kind": "all"}, "uses": ["remix"],
                              "territories": {"include": ["US"]}});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let backwards = app
        .post(
            "/v1/agreements",
            &app.admin,
            proposal(
                json!({"starts_at": "2026-01-01T00:00:00Z", "ends_at": "2025-01-01T00:00:00Z"}),
            ),
        )
        .await;
    backwards.problem(422, Some("ends_at"));
    app.post("/v1/agreements", &app.admin, proposal(json!({"uses": []})))
        .await
        .problem(422, Some("uses"));
    app.post(
        "/v1/agreements",
        &app.admin,
        proposal(json!({"uses": ["remix", "cover", "dance"]})),
    )
    .await
    .problem(422, Some("uses[2]"));
    app.post(
        "/v1/agreements",
        &app.admin,
        proposal(json!({"territories": {"include": ["US", "ZZ"]}})),
    )
    .await
    .problem(422, Some("territories.include[1]"));
    app.post(
        "/v1/agreements",
        &app.admin,
        proposal(json!({"licensor": "par_missing"})),
    )
    .await
    .problem(422, Some("licensor"));
    // Only operators propose; operators may not accept for a licensor.
    app.post("/v1/agreements", &w.label_key, proposal(json!({})))
        .await
        .problem(403, None);
    let proposed = app
        .post("/v1/agreements", &app.admin, proposal(json!({})))
        .await;
    let id = proposed.ok(201)["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/v1/agreements/{id}/accept"),
        &app.admin,
        json!({}),
    )
    .await
    .problem(403, None);
    app.post(&format!("/v1/agreements/{id}/accept"), &fan, json!({}))
        .await
        .problem(404, None);

    // Participation is the person's own.
    let put = |key: String, body: Value| {
        let path = format!("/v1/parties/{}/participation", w.artist);
        let app = &app;
        async move {
            app.call(reqwest::Method::PUT, &path, Some(&key), Some(body))
                .await
        }
    };
    put(w.label_key.clone(), json!({"uses": {"remix": "allow"}}))
        .await
        .problem(403, None);
    put(w.writer_key.clone(), json!({"uses": {"remix": "allow"}}))
        .await
        .problem(403, None);
    put(w.artist_key.clone(), json!({"uses": {"remix": "maybe"}}))
        .await
        .problem(422, Some("uses.remix"));
    let own = put(
        w.artist_key.clone(),
        json!({"uses": {"remix": "allow"}, "overrides": [{"use": "remix", "work": w.work, "choice": "deny"}]}),
    )
    .await;
    assert_eq!(own.ok(200)["overrides"][0]["choice"], "deny");
    // The work override denies remixes of the recording that embodies it.
    let d = check(
        &app,
        &fan,
        json!({"use": "remix", "recordings": [w.recording], "territory": "US"}),
    )
    .await;
    assert!(has(&d, "PARTICIPATION_DENIED", &w.artist), "{d}");
});

story!(the_uses_page_lists_remix_after_consent, |app| {
    let w = world(&app).await;
    let fan = app.key("fan", &[]).await;
    let path = format!("/v1/recordings/{}/uses?territory=US", w.recording);
    let before = app.get(&path, &fan).await;
    assert_eq!(before.ok(200)["uses"], json!([]));

    agree(
        &app,
        &w.label,
        &w.label_key,
        json!({"uses": ["remix"], "requires_approval": true}),
    )
    .await;
    agree(
        &app,
        &w.publisher,
        &w.publisher_key,
        json!({"uses": ["remix"]}),
    )
    .await;
    participate(
        &app,
        &w.artist,
        &w.artist_key,
        json!({"remix": "allow", "extend": "allow"}),
    )
    .await;
    participate(&app, &w.writer, &w.writer_key, json!({"remix": "allow"})).await;

    let after = app.get(&path, &fan).await;
    let after = after.ok(200);
    assert_eq!(after["uses"].as_array().unwrap().len(), 1, "{after}");
    assert_eq!(after["uses"][0]["use"], "remix");
    assert_eq!(after["uses"][0]["approvals_required"], json!([w.label]));

    app.get(
        &format!("/v1/recordings/{}/uses?territory=QQ", w.recording),
        &fan,
    )
    .await
    .problem(422, Some("territory"));
    app.get(&format!("/v1/recordings/{}/uses", w.recording), &fan)
        .await
        .problem(422, Some("territory"));
    app.get("/v1/recordings/rec_missing/uses?territory=US", &fan)
        .await
        .problem(404, None);
});

story!(a_person_delegates_participation_to_a_partner, |app| {
    let w = world(&app).await;
    let other = app.party("Elsewhere Management", "organisation").await;
    let manager = app.party("Quinn Management", "organisation").await;
    let manager_key = app.key("partner", &[&manager]).await;
    let other_key = app.key("partner", &[&other]).await;
    let path = format!("/v1/parties/{}/participation", w.artist);
    let set = |key: String| {
        let app = &app;
        let path = path.clone();
        async move {
            app.call(
                reqwest::Method::PUT,
                &path,
                Some(&key),
                Some(json!({"uses": {"remix": "allow"}})),
            )
            .await
        }
    };
    let delegate = |key: String, body: Value| {
        let app = &app;
        let path = format!("{path}/delegates");
        async move {
            app.call(reqwest::Method::PUT, &path, Some(&key), Some(body))
                .await
        }
    };

    // Before delegation a partner may not change it.
    set(manager_key.clone()).await.problem(403, None);

    // Only the person (or an operator) chooses delegates, and only organisations qualify.
    delegate(manager_key.clone(), json!({"partners": [manager]}))
        .await
        .problem(403, None);
    delegate(
        w.artist_key.clone(),
        json!({"partners": [manager, w.writer]}),
    )
    .await
    .problem(422, Some("partners[1]"));
    delegate(w.artist_key.clone(), json!({"partners": ["par_nope"]}))
        .await
        .problem(422, Some("partners[0]"));
    let done = delegate(w.artist_key.clone(), json!({"partners": [manager]})).await;
    assert_eq!(done.ok(200)["partners"], json!([manager]));

    // The person, the delegate and operators can read who the delegates are; others cannot.
    let listed = format!("{path}/delegates");
    for key in [&w.artist_key, &manager_key, &app.admin] {
        let read = app.get(&listed, key).await;
        assert_eq!(read.ok(200)["partners"], json!([manager]));
    }
    app.get(&listed, &other_key).await.problem(403, None);
    app.get("/v1/parties/par_nope/participation/delegates", &app.admin)
        .await
        .problem(404, None);

    // Now the delegate may; a different partner still may not.
    let changed = set(manager_key.clone()).await;
    assert_eq!(changed.ok(200)["uses"]["remix"], "allow");
    set(other_key.clone()).await.problem(403, None);

    // The delegation is in the audit log, readable by the delegate.
    let log = app.get("/v1/audit", &manager_key).await;
    let log = log.ok(200).clone();
    let entry = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "participation.delegate")
        .cloned()
        .unwrap_or_else(|| panic!("no delegation entry in {log}"));
    assert_eq!(entry["after"]["partners"], json!([manager]), "{entry}");

    // Removing the delegation takes the right away again.
    delegate(w.artist_key.clone(), json!({"partners": []}))
        .await
        .ok(200);
    set(manager_key).await.problem(403, None);
});

story!(the_use_table_is_operator_data, |app| {
    let w = world(&app).await;
    agree(
        &app,
        &w.publisher,
        &w.publisher_key,
        json!({"uses": ["cover"], "rates": {}}),
    )
    .await;
    participate(&app, &w.writer, &w.writer_key, json!({"cover": "allow"})).await;
    let fan = app.key("fan", &[]).await;
    let cover = json!({"use": "cover", "recordings": [w.recording], "territory": "US"});

    // By default a cover needs the publisher and writers only.
    let d = check(&app, &fan, cover.clone()).await;
    assert_eq!(d["allowed"], true, "{d}");
    let table = app.get("/v1/use-table", &fan).await.ok(200).clone();
    assert_eq!(table["uses"]["cover"]["artists"], "none", "{table}");
    assert_eq!(table["uses"].as_object().unwrap().len(), 7, "{table}");

    // Only operators change it, and every row is checked.
    let put = |key: String, body: Value| {
        let app = &app;
        async move {
            app.call(
                reqwest::Method::PUT,
                "/v1/use-table",
                Some(&key),
                Some(body),
            )
            .await
        }
    };
    let mut changed = table.clone();
    changed["uses"]["cover"]["artists"] = json!("main");
    put(w.label_key.clone(), changed.clone())
        .await
        .problem(403, None);
    let mut bad = changed.clone();
    bad["uses"]["remix"]["artists"] = json!("voiced");
    bad["uses"]["mashup"]["min_inputs"] = json!(11);
    bad["uses"].as_object_mut().unwrap().remove("train");
    bad["uses"]["karaoke"] = changed["uses"]["remix"].clone();
    let refused = put(app.admin.clone(), bad).await;
    for field in [
        "uses.remix.artists",
        "uses.mashup.min_inputs",
        "uses.train",
        "uses.karaoke",
    ] {
        refused.problem(422, Some(field));
    }
    let unchanged = app.get("/v1/use-table", &fan).await;
    assert_eq!(unchanged.ok(200)["uses"]["cover"]["artists"], "none");

    // Making covers need the main artists' participation changes the check's reasons.
    let stored = put(app.admin.clone(), changed).await;
    assert_eq!(stored.ok(200)["uses"]["cover"]["artists"], "main");
    let d = check(&app, &fan, cover.clone()).await;
    assert_eq!(d["allowed"], false, "{d}");
    assert_eq!(
        reasons(&d),
        vec![("PARTICIPATION_MISSING".to_owned(), w.artist.clone())],
        "{d}"
    );
    participate(&app, &w.artist, &w.artist_key, json!({"cover": "allow"})).await;
    let d = check(&app, &fan, cover).await;
    assert_eq!(d["allowed"], true, "{d}");

    // The change is audited with the table before and after.
    let log = app.get("/v1/audit", &app.admin).await.ok(200).clone();
    let entry = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "use_table.set")
        .cloned()
        .unwrap_or_else(|| panic!("no use table entry in {log}"));
    assert_eq!(entry["before"]["cover"]["artists"], "none", "{entry}");
    assert_eq!(entry["after"]["cover"]["artists"], "main", "{entry}");
});
