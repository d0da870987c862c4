//! The default use table of product.md ("Uses and the rights they need"), every reason code,
//! and random inputs to the decision endpoints, through HTTP on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

mod common;

use common::rights::{check, merged, participate};
use serde_json::{Value, json};

const USES: [&str; 7] = [
    "remix", "mashup", "extend", "sample", "cover", "voice", "train",
];

/// Who must agree, as the columns of the table in product.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Party {
    /// The master owner (the label).
    Label,
    /// The publishing owner (the publisher).
    Publisher,
    /// The main artist, or the voiced artist for `voice`.
    Artist,
    /// The writer.
    Writer,
}

use Party::{Artist, Label, Publisher, Writer};

/// The default use table: each use and the parties whose "no" denies it.
const TABLE: [(&str, &[Party]); 7] = [
    ("remix", &[Label, Publisher, Artist, Writer]),
    ("mashup", &[Label, Publisher, Artist, Writer]),
    ("extend", &[Label, Publisher, Artist, Writer]),
    ("sample", &[Label, Publisher, Artist, Writer]),
    ("cover", &[Publisher, Writer]),
    ("voice", &[Publisher, Artist, Writer]),
    ("train", &[Label, Publisher, Artist, Writer]),
];

/// The shared rights world plus a second recording (a live take), for mashups.
struct World {
    base: common::rights::World,
    second: String,
}

impl std::ops::Deref for World {
    type Target = common::rights::World;
    fn deref(&self) -> &Self::Target {
        &self.base
    }
}

async fn world(app: &common::TestApp) -> World {
    let base = common::rights::world(app).await;
    let second = base
        .add_recording(app, "US-RC1-76-07840", "Night Drive (Live)")
        .await;
    World { base, second }
}

impl World {
    fn id(&self, p: Party) -> &str {
        match p {
            Label => &self.label,
            Publisher => &self.publisher,
            Artist => &self.artist,
            Writer => &self.writer,
        }
    }

    fn key(&self, p: Party) -> &str {
        match p {
            Label => &self.label_key,
            Publisher => &self.publisher_key,
            Artist => &self.artist_key,
            Writer => &self.writer_key,
        }
    }

    /// The check request for one use of this world's catalog.
    fn request(&self, use_type: &str) -> Value {
        match use_type {
            "mashup" => {
                json!({"use": use_type, "recordings": [self.recording, self.second], "territory": "US"})
            }
            // The input is the artist; the work they perform is a further input.
            "voice" => {
                json!({"use": use_type, "artist": self.artist, "works": [self.work], "territory": "US"})
            }
            _ => json!({"use": use_type, "recordings": [self.recording], "territory": "US"}),
        }
    }
}

/// An accepted agreement for every use, `extra` replacing any field; returns its id.
async fn agree(app: &common::TestApp, licensor: &str, key: &str, extra: Value) -> String {
    common::rights::agree(app, licensor, key, merged(json!({"uses": USES}), extra)).await
}

async fn revoke(app: &common::TestApp, agreement: &str, key: &str) {
    let revoked = app
        .post(
            &format!("/v1/agreements/{agreement}/revoke"),
            key,
            json!({}),
        )
        .await;
    assert_eq!(revoked.ok(200)["status"], "revoked");
}

/// Participation choosing `choice` for every use.
fn every_use(choice: &str) -> Value {
    USES.iter()
        .map(|u| ((*u).to_owned(), json!(choice)))
        .collect()
}

/// The reasons of a decision.
fn reasons(decision: &Value) -> &Vec<Value> {
    decision["reasons"].as_array().unwrap()
}

/// The first reason with this code, or a panic showing the decision.
fn reason<'d>(decision: &'d Value, code: &str) -> &'d Value {
    reasons(decision)
        .iter()
        .find(|r| r["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {decision}"))
}

fn has(decision: &Value, code: &str, party: &str) -> bool {
    reasons(decision)
        .iter()
        .any(|r| r["code"] == code && r["party"] == party)
}

story!(every_row_of_the_default_table, |app| {
    let w = world(&app).await;
    let fan = app.key("fan", &[]).await;
    let mut agreements = [
        agree(&app, &w.label, &w.label_key, json!({})).await,
        agree(&app, &w.publisher, &w.publisher_key, json!({})).await,
    ];
    for p in [Artist, Writer] {
        participate(&app, w.id(p), w.key(p), every_use("allow")).await;
    }

    // With everyone's consent, every use is allowed with nobody left to approve.
    for (use_type, _) in TABLE {
        let d = check(&app, &fan, w.request(use_type)).await;
        assert_eq!(d["allowed"], true, "{use_type}: {d}");
        assert_eq!(d["approvals_required"], json!([]), "{use_type}: {d}");
    }

    // Withdrawing one party's consent denies exactly the uses that need that party, each
    // reason naming it; the other uses stay allowed.
    for (i, party) in [Label, Publisher, Artist, Writer].into_iter().enumerate() {
        let code = match party {
            Label | Publisher => {
                revoke(&app, &agreements[i], w.key(party)).await;
                "AGREEMENT_REVOKED"
            }
            Artist | Writer => {
                participate(&app, w.id(party), w.key(party), every_use("deny")).await;
                "PARTICIPATION_DENIED"
            }
        };
        for (use_type, required) in TABLE {
            let d = check(&app, &fan, w.request(use_type)).await;
            if required.contains(&party) {
                assert_eq!(d["allowed"], false, "{use_type} without {party:?}: {d}");
                assert!(!reasons(&d).is_empty(), "{use_type}: {d}");
                for r in reasons(&d) {
                    assert_eq!(r["code"], code, "{use_type} without {party:?}: {d}");
                    assert_eq!(r["party"], w.id(party), "{use_type} without {party:?}: {d}");
                }
                if use_type == "mashup" && party == Label {
                    // "yes, each": the label is named for each recording.
                    let inputs: Vec<&Value> =
                        reasons(&d).iter().map(|r| &r["input"]["id"]).collect();
                    assert_eq!(inputs, [&json!(w.recording), &json!(w.second)], "{d}");
                }
                if use_type == "voice" && party == Artist {
                    assert_eq!(d["reasons"][0]["input"]["kind"], "artist", "{d}");
                    assert_eq!(d["reasons"][0]["input"]["id"], w.artist.as_str(), "{d}");
                }
            } else {
                assert_eq!(d["allowed"], true, "{use_type} without {party:?}: {d}");
            }
        }
        // Consent is given again before the next party withdraws.
        match party {
            Label | Publisher => {
                agreements[i] = agree(&app, w.id(party), w.key(party), json!({})).await;
            }
            Artist | Writer => {
                participate(&app, w.id(party), w.key(party), every_use("allow")).await;
            }
        }
        for (use_type, _) in TABLE {
            let d = check(&app, &fan, w.request(use_type)).await;
            assert_eq!(d["allowed"], true, "{use_type} after {party:?} again: {d}");
        }
    }

    // A mashup needs two or more recordings.
    let one = json!({"use": "mashup", "recordings": [w.recording], "territory": "US"});
    let d = check(&app, &fan, one).await;
    assert_eq!(d["allowed"], false, "{d}");
    assert_eq!(d["reasons"][0]["code"], "INPUT_MISSING", "{d}");
});

story!(every_reason_code_is_reported, |app| {
    let w = world(&app).await;
    let fan = app.key("fan", &[]).await;
    let remix = json!({"use": "remix", "recordings": [w.recording], "territory": "US"});

    // Nobody has agreed or opted in yet.
    let d = check(&app, &fan, remix.clone()).await;
    assert_eq!(d["allowed"], false);
    let r = reason(&d, "NO_AGREEMENT");
    assert_eq!(r["party"], w.label.as_str(), "{d}");
    assert_eq!(r["input"], json!({"kind": "recording", "id": w.recording}));
    assert!(has(&d, "NO_AGREEMENT", &w.publisher), "{d}");
    let r = reason(&d, "PARTICIPATION_MISSING");
    assert_eq!(r["party"], w.artist.as_str(), "{d}");
    assert_eq!(r["input"]["id"], w.recording.as_str(), "{d}");
    assert!(has(&d, "PARTICIPATION_MISSING", &w.writer), "{d}");

    // The label licenses remix only, worldwide but France, until 2030.
    let limited = agree(
        &app,
        &w.label,
        &w.label_key,
        json!({"uses": ["remix"], "territories": {"world": true, "exclude": ["FR"]},
               "ends_at": "2030-01-01T00:00:00Z"}),
    )
    .await;
    agree(&app, &w.publisher, &w.publisher_key, json!({})).await;
    participate(&app, &w.artist, &w.artist_key, every_use("allow")).await;
    participate(&app, &w.writer, &w.writer_key, every_use("allow")).await;
    let at = |use_type: &str, territory: &str, at: &str| json!({"use": use_type, "recordings": [w.recording], "territory": territory, "at": at});
    let d = check(&app, &fan, at("remix", "US", "2026-06-01T00:00:00Z")).await;
    assert_eq!(d["allowed"], true, "{d}");

    let d = check(&app, &fan, at("extend", "US", "2026-06-01T00:00:00Z")).await;
    assert_eq!(reasons(&d).len(), 1, "{d}");
    let r = reason(&d, "USE_NOT_LICENSED");
    assert_eq!(r["party"], w.label.as_str(), "{d}");
    assert_eq!(r["agreement"], limited.as_str(), "{d}");
    assert_eq!(r["input"]["id"], w.recording.as_str(), "{d}");

    let d = check(&app, &fan, at("remix", "FR", "2026-06-01T00:00:00Z")).await;
    assert_eq!(reasons(&d).len(), 1, "{d}");
    let r = reason(&d, "TERRITORY_EXCLUDED");
    assert_eq!(r["party"], w.label.as_str(), "{d}");
    assert_eq!(r["agreement"], limited.as_str(), "{d}");

    let d = check(&app, &fan, at("remix", "US", "2031-06-01T00:00:00Z")).await;
    assert_eq!(reasons(&d).len(), 1, "{d}");
    let r = reason(&d, "OUTSIDE_WINDOW");
    assert_eq!(r["party"], w.label.as_str(), "{d}");
    assert_eq!(r["agreement"], limited.as_str(), "{d}");

    // The writer refuses remixes.
    let mut choices = every_use("allow");
    choices["remix"] = json!("deny");
    participate(&app, &w.writer, &w.writer_key, choices).await;
    let d = check(&app, &fan, at("remix", "US", "2026-06-01T00:00:00Z")).await;
    assert_eq!(reasons(&d).len(), 1, "{d}");
    let r = reason(&d, "PARTICIPATION_DENIED");
    assert_eq!(r["party"], w.writer.as_str(), "{d}");
    assert_eq!(r["input"]["id"], w.recording.as_str(), "{d}");
    assert_eq!(r["item"], json!({"kind": "work", "id": w.work}), "{d}");
    participate(&app, &w.writer, &w.writer_key, every_use("allow")).await;

    // The label revokes.
    revoke(&app, &limited, &w.label_key).await;
    let d = check(&app, &fan, remix.clone()).await;
    assert_eq!(reasons(&d).len(), 1, "{d}");
    let r = reason(&d, "AGREEMENT_REVOKED");
    assert_eq!(r["party"], w.label.as_str(), "{d}");
    assert_eq!(r["agreement"], limited.as_str(), "{d}");
    agree(&app, &w.label, &w.label_key, json!({})).await;
    let d = check(&app, &fan, remix.clone()).await;
    assert_eq!(d["allowed"], true, "{d}");

    // Unknown splits: a recording with none, and a linked work with none.
    let bare_work = app
        .post(
            "/v1/works",
            &app.admin,
            json!({"title": "Unknown Owners", "writers": [w.writer], "splits": null}),
        )
        .await;
    let bare_work = bare_work.ok(201)["id"].as_str().unwrap().to_owned();
    let bare_rec = app
        .post(
            "/v1/recordings",
            &app.admin,
            json!({"isrc": "US-RC1-76-07841", "title": "No Master Splits", "artists": [w.artist],
                   "works": [w.work], "splits": null}),
        )
        .await;
    let bare_rec = bare_rec.ok(201)["id"].as_str().unwrap().to_owned();
    let linked = app
        .post(
            "/v1/recordings",
            &app.admin,
            json!({"isrc": "US-RC1-76-07842", "title": "Unknown Publishing", "artists": [w.artist],
                   "works": [bare_work], "splits": [{"party": w.label, "share_ppm": 1000000}]}),
        )
        .await;
    let linked = linked.ok(201)["id"].as_str().unwrap().to_owned();
    let d = check(
        &app,
        &fan,
        json!({"use": "remix", "recordings": [bare_rec], "territory": "US"}),
    )
    .await;
    assert_eq!(reasons(&d).len(), 1, "{d}");
    let r = reason(&d, "SPLITS_INCOMPLETE");
    assert_eq!(
        r["input"],
        json!({"kind": "recording", "id": bare_rec}),
        "{d}"
    );
    assert!(r["item"].is_null(), "{d}");
    let d = check(
        &app,
        &fan,
        json!({"use": "remix", "recordings": [linked], "territory": "US"}),
    )
    .await;
    assert_eq!(reasons(&d).len(), 1, "{d}");
    let r = reason(&d, "SPLITS_INCOMPLETE");
    assert_eq!(
        r["input"],
        json!({"kind": "recording", "id": linked}),
        "{d}"
    );
    assert_eq!(r["item"], json!({"kind": "work", "id": bare_work}), "{d}");
    let d = check(
        &app,
        &fan,
        json!({"use": "cover", "works": [bare_work], "territory": "US"}),
    )
    .await;
    assert_eq!(reasons(&d).len(), 1, "{d}");
    let r = reason(&d, "SPLITS_INCOMPLETE");
    assert_eq!(r["input"], json!({"kind": "work", "id": bare_work}), "{d}");

    // Models: one trained on a recording not cleared for train, one that cannot remix.
    let trained = app
        .post(
            "/v1/models",
            &app.admin,
            json!({"name": "Dirty", "uses": ["remix"], "training": {"recordings": [bare_rec]}}),
        )
        .await;
    let trained = trained.ok(201)["id"].as_str().unwrap().to_owned();
    let mut with_model = remix.clone();
    with_model["model"] = json!(trained);
    let d = check(&app, &fan, with_model).await;
    assert_eq!(reasons(&d).len(), 1, "{d}");
    let r = reason(&d, "MODEL_NOT_CLEARED");
    assert_eq!(r["input"], json!({"kind": "model", "id": trained}), "{d}");
    assert_eq!(
        r["item"],
        json!({"kind": "recording", "id": bare_rec}),
        "{d}"
    );
    let extender = app
        .post(
            "/v1/models",
            &app.admin,
            json!({"name": "Extender", "uses": ["extend"], "training": {"none": true}}),
        )
        .await;
    let extender = extender.ok(201)["id"].as_str().unwrap().to_owned();
    let mut with_model = remix.clone();
    with_model["model"] = json!(extender);
    let d = check(&app, &fan, with_model).await;
    assert_eq!(reasons(&d).len(), 1, "{d}");
    let r = reason(&d, "MODEL_USE_UNSUPPORTED");
    assert_eq!(r["input"], json!({"kind": "model", "id": extender}), "{d}");

    // Inputs that do not exist, and inputs that are missing.
    for (body, kind, id) in [
        (
            json!({"use": "remix", "recordings": ["rec_nope"], "territory": "US"}),
            "recording",
            "rec_nope",
        ),
        (
            json!({"use": "cover", "works": ["wrk_nope"], "territory": "US"}),
            "work",
            "wrk_nope",
        ),
        (
            json!({"use": "voice", "artist": "par_nope", "territory": "US"}),
            "artist",
            "par_nope",
        ),
        (
            json!({"use": "remix", "recordings": [w.recording], "model": "mdl_nope", "territory": "US"}),
            "model",
            "mdl_nope",
        ),
    ] {
        let d = check(&app, &fan, body).await;
        assert_eq!(reasons(&d).len(), 1, "{d}");
        let r = reason(&d, "INPUT_NOT_FOUND");
        assert_eq!(r["input"], json!({"kind": kind, "id": id}), "{d}");
    }
    for body in [
        json!({"use": "voice", "works": [w.work], "territory": "US"}),
        json!({"use": "remix", "territory": "US"}),
        json!({"use": "mashup", "recordings": [w.recording, w.recording], "territory": "US"}),
    ] {
        let d = check(&app, &fan, body).await;
        assert_eq!(d["allowed"], false, "{d}");
        let r = reason(&d, "INPUT_MISSING");
        assert!(r["input"].is_null(), "{d}");
    }
});

/// A seeded xorshift64: the same sequence on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// Three times in four one of the first `valid` items, otherwise any item.
    fn mostly<'a>(&mut self, items: &[&'a str], valid: usize) -> &'a str {
        if self.below(4) == 0 {
            self.pick(items)
        } else {
            items[self.below(valid)]
        }
    }
}

/// Asserts an answer is a success or a client error, and that a client error is a problem.
#[track_caller]
fn no_server_error(a: &common::Answer, what: &Value) {
    let status = a.status.as_u16();
    assert!(
        status == 200 || (400..500).contains(&status),
        "{status} for {what}: {}",
        a.body
    );
    if status != 200 {
        a.problem(status, None);
    }
}

story!(random_inputs_never_fail_the_server, |app| {
    let w = world(&app).await;
    let fan = app.key("fan", &[]).await;
    agree(&app, &w.label, &w.label_key, json!({})).await;
    agree(
        &app,
        &w.publisher,
        &w.publisher_key,
        json!({"territories": {"world": true, "exclude": ["FR"]}}),
    )
    .await;
    participate(&app, &w.artist, &w.artist_key, every_use("allow")).await;
    let mut writer = every_use("allow");
    writer["sample"] = json!("deny");
    writer["extend"] = json!("approve");
    participate(&app, &w.writer, &w.writer_key, writer).await;
    let model = app
        .post(
            "/v1/models",
            &app.admin,
            json!({"name": "Any", "uses": ["remix", "voice"], "training": {"recordings": [w.recording]}}),
        )
        .await;
    let model = model.ok(201)["id"].as_str().unwrap().to_owned();

    let uses = [
        "remix", "mashup", "extend", "sample", "cover", "voice", "train", "", "REMIX", "stream",
        "remix ", "\u{0}",
    ];
    let ids = [
        w.recording.as_str(),
        w.second.as_str(),
        w.work.as_str(),
        w.artist.as_str(),
        w.label.as_str(),
        model.as_str(),
        "rec_nope",
        "wrk_nope",
        "par_nope",
        "mdl_nope",
        "",
        "\u{0}",
        "rec_\u{0}x",
        "'; DROP TABLE parties; --",
        "%",
        "../../etc/passwd",
        "ré€🎵",
    ];
    let territories = [
        "US", "GB", "FR", "WW", "XX", "", "us", "USA", "ZZ", "\u{0}", "%2F",
    ];
    let times = [
        "2026-06-01T00:00:00Z",
        "2019-01-01T00:00:00Z",
        "2031-01-01T00:00:00+02:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "-262144-01-01T00:00:00Z",
        "+262143-12-31T23:59:59Z",
        "2026-02-30T00:00:00Z",
        "yesterday",
        "",
        "1970-01-01T00:00:00Z",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let list = |rng: &mut Rng| -> Value {
        let len = match rng.below(5) {
            0 => 0,
            // Mostly this world's recordings, so some requests are allowed.
            4 => {
                return (0..1 + rng.below(2))
                    .map(|_| json!(rng.mostly(&ids, 2)))
                    .collect();
            }
            1 => 1 + rng.below(3),
            // The limit is 64 ids; a few lists go past it.
            2 => 60 + rng.below(6),
            _ => rng.below(66),
        };
        (0..len).map(|_| json!(rng.pick(&ids))).collect()
    };
    // Allowed, denied and refused requests, to show the loop reaches the engine.
    let mut statuses = [0_u32; 3];
    for i in 0..300 {
        let mut body =
            json!({"use": rng.mostly(&uses, 7), "territory": rng.mostly(&territories, 4)});
        if rng.below(4) != 0 {
            body["recordings"] = list(&mut rng);
        }
        if rng.below(3) == 0 {
            body["works"] = list(&mut rng);
        }
        if rng.below(3) == 0 {
            body["artist"] = json!(rng.pick(&ids));
        }
        if rng.below(2) == 0 {
            body["at"] = json!(rng.mostly(&times, 3));
        }
        if rng.below(3) == 0 {
            body["model"] = json!(rng.pick(&ids));
        }
        // Now and then a field of the wrong type, or a missing required field.
        match rng.below(20) {
            0 => body["recordings"] = json!(42),
            1 => body["at"] = json!(1_700_000_000_000_u64),
            2 => body["artist"] = json!(["par_nope"]),
            3 => {
                body.as_object_mut().unwrap().remove("use");
            }
            4 => {
                body.as_object_mut().unwrap().remove("territory");
            }
            _ => {}
        }
        let a = app.post("/v1/rights/check", &fan, body.clone()).await;
        no_server_error(&a, &body);
        if a.status == 200 {
            assert!(a.body["allowed"].is_boolean(), "{i}: {}", a.body);
            let allowed = a.body["allowed"] == true;
            assert_eq!(allowed, reasons(&a.body).is_empty(), "{i}: {}", a.body);
            statuses[usize::from(allowed)] += 1;
        } else {
            statuses[2] += 1;
        }

        let id = urlencode(rng.mostly(&ids, 2));
        let territory = urlencode(rng.mostly(&territories, 4));
        let path = format!("/v1/recordings/{id}/uses?territory={territory}");
        let a = app.get(&path, &fan).await;
        no_server_error(&a, &json!(path));
    }
    let [denied, allowed, refused] = statuses;
    assert!(
        denied >= 10 && allowed >= 1 && refused >= 10,
        "{statuses:?}"
    );
});

/// Percent-encodes everything but unreserved characters.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
