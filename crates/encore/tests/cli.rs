//! The command line, run as a user would: import, keys, migrate and demo, on SQLite and on
//! PostgreSQL when `ENCORE_TEST_POSTGRES_URL` is set.

use std::process::{Command, Output};

use encore_core::Isrc;
use encore_store::{ListQuery, Store};
use sqlx::Connection;

struct Env {
    dir: tempfile::TempDir,
    url: String,
    pg: Option<(String, String)>,
}

impl Env {
    async fn new(postgres: bool) -> Option<Env> {
        let dir = tempfile::tempdir().expect("temp dir");
        if !postgres {
            let url = format!("sqlite://{}", dir.path().join("encore.db").display());
            return Some(Env { dir, url, pg: None });
        }
        let Some(admin) = std::env::var("ENCORE_TEST_POSTGRES_URL")
            .ok()
            .filter(|s| !s.is_empty())
        else {
            eprintln!("skipped on PostgreSQL: ENCORE_TEST_POSTGRES_URL is not set");
            return None;
        };
        let name = format!("encore_t_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create database");
        let (base, _) = admin.rsplit_once('/').expect("URL has a database");
        Some(Env {
            url: format!("{base}/{name}"),
            dir,
            pg: Some((admin, name)),
        })
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_encore"))
            .args(args)
            .current_dir(self.dir.path())
            .env("ENCORE_DATABASE_URL", &self.url)
            .env("ENCORE_DATA_DIR", self.dir.path().join("data"))
            .env_remove("ENCORE_CONFIG")
            .output()
            .expect("run encore")
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.display().to_string()
    }

    async fn store(&self) -> Store {
        Store::open(&self.url).await.expect("open store")
    }

    async fn drop_db(self) {
        if let Some((admin, name)) = &self.pg {
            let mut conn = sqlx::PgConnection::connect(admin).await.expect("connect");
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .ok();
        }
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

const CSV: &str = "\
type,ref,name,kind,ipi,isni,iswc,isrc,title,duration_ms,artists,writers,works,splits
party,lbl,Northern Lights Records,organisation,,,,,,,,,,
party,mara,Mara Quinn,person,523879412,,,,,,,,,
party,ivy,Ivy Marchetti,person,,,,,,,,,,
work,w1,,,,,T-034.524.680-1,,Night Drive,,,mara;ivy,,mara:500000;ivy:500000
recording,,,,,,,USRC17607839,Night Drive,201000,mara,,w1,lbl:800000;mara:200000
recording,,,,,,,USRC1760784,Bad Isrc,,mara,,w1,
recording,,,,,,,GBAYE0601498,Bad Splits,,mara,,w1,lbl:600000;mara:300000
recording,,,,,,,GBAYE0601499,Unknown Artist,,nobody,,w1,
recording,,,,,,,GBAYE0601500,Splits Unknown Yet,,mara,,,
";

async fn import_story(postgres: bool) {
    let Some(env) = Env::new(postgres).await else {
        return;
    };
    let file = env.write("catalog.csv", CSV);
    let out = env.run(&["import", &file]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("6 created, 0 updated, 3 rejected"), "{said}");
    assert!(said.contains("line 7: isrc:"), "{said}");
    assert!(said.contains("line 8: splits:"), "{said}");
    assert!(said.contains("line 9: artists[0]:"), "{said}");

    // Running the same file again creates nothing new.
    let out = env.run(&["import", &file]);
    assert!(
        text(&out).contains("0 created, 6 updated, 3 rejected"),
        "{}",
        text(&out)
    );
    let store = env.store().await;
    let recs = store.recordings(&ListQuery::default()).await.expect("list");
    assert_eq!(recs.items.len(), 2);
    let rec = store
        .recording_by_isrc(&Isrc::parse("USRC17607839").expect("isrc"))
        .await
        .expect("get")
        .expect("found");
    assert_eq!(rec.fields.splits.as_ref().map(|s| s.len()), Some(2));
    assert_eq!(rec.fields.works.len(), 1);

    // JSON Lines, with a row that changes an earlier one.
    let jsonl = env.write(
        "more.jsonl",
        concat!(
            r#"{"type":"party","ref":"ivy","name":"Ivy Marchetti-Holm","kind":"person"}"#,
            "\n\n",
            r#"{"type":"recording","isrc":"GBAYE0601500","title":"Splits Known Now","artists":["mara"],"splits":[{"party":"lbl","share_ppm":1000000}]}"#,
            "\n",
            r#"{"type":"recording","isrc":"GBAYE0601501","title":5}"#,
            "\n",
            r#"{"type":"song"}"#,
            "\n",
            "{not json\n",
        ),
    );
    let out = env.run(&["import", &jsonl]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("0 created, 2 updated, 3 rejected"), "{said}");
    assert!(said.contains("line 4: title:"), "{said}");
    assert!(said.contains("line 5: type:"), "{said}");
    assert!(said.contains("line 6:"), "{said}");
    let rec = store
        .recording_by_isrc(&Isrc::parse("GBAYE0601500").expect("isrc"))
        .await
        .expect("get")
        .expect("found");
    assert_eq!(rec.fields.title, "Splits Known Now");
    assert!(rec.fields.splits.is_some());

    let clean = env.write(
        "clean.jsonl",
        r#"{"type":"party","ref":"new","name":"New","kind":"person"}"#,
    );
    let out = env.run(&["import", &clean]);
    assert!(out.status.success(), "{}", text(&out));
    store.close().await;
    env.drop_db().await;
}

#[tokio::test]
async fn import_reports_bad_rows_commits_good_ones_and_is_idempotent_sqlite() {
    import_story(false).await;
}

#[tokio::test]
async fn import_reports_bad_rows_commits_good_ones_and_is_idempotent_postgres() {
    import_story(true).await;
}

async fn keys_and_demo_story(postgres: bool) {
    let Some(env) = Env::new(postgres).await else {
        return;
    };
    let out = env.run(&["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = env.run(&["keys", "create", "--role", "partner"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("at least one party"), "{}", text(&out));
    let out = env.run(&["keys", "create", "--role", "fan", "--name", "a fan"]);
    assert!(out.status.success(), "{}", text(&out));
    let secret = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(secret.starts_with("enc_") && secret.len() == 68, "{secret}");
    let store = env.store().await;
    let key = store
        .authenticate(&secret)
        .await
        .expect("auth")
        .expect("key works");
    let out = env.run(&["keys", "list"]);
    assert!(text(&out).contains(&key.id) && !text(&out).contains(&secret));
    let out = env.run(&["keys", "revoke", &key.id]);
    assert!(out.status.success());
    assert!(store.authenticate(&secret).await.expect("auth").is_none());

    if !std::path::Path::new(encore_engine::DEFAULT_SOUNDFONT_PATH).exists() {
        eprintln!("demo part skipped: install fluid-soundfont-gm");
        return;
    }
    let out = env.run(&["demo", "--no-serve", "--seconds", "2"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("ENCORE_ADMIN_KEY") || said.contains("ADMIN"),
        "{said}"
    );
    let recs = store
        .recordings(&ListQuery {
            limit: Some(200),
            ..Default::default()
        })
        .await
        .expect("list");
    assert!(recs.items.len() >= 12, "{} recordings", recs.items.len());
    for rec in &recs.items {
        assert!(
            rec.audio.len() >= 5,
            "{} has {} audio assets",
            rec.fields.title,
            rec.audio.len()
        );
    }
    assert!(
        recs.items.iter().any(|r| r.fields.splits.is_none()),
        "one demo track waits for its splits"
    );
    // Running it again changes nothing in the catalog.
    let out = env.run(&["demo", "--no-serve", "--seconds", "2"]);
    assert!(text(&out).contains("already loaded"), "{}", text(&out));
    let again = store
        .recordings(&ListQuery {
            limit: Some(200),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(again.items.len(), recs.items.len());
    store.close().await;
    env.drop_db().await;
}

#[tokio::test]
async fn keys_and_demo_work_from_the_command_line_sqlite() {
    keys_and_demo_story(false).await;
}

#[tokio::test]
async fn keys_and_demo_work_from_the_command_line_postgres() {
    keys_and_demo_story(true).await;
}

#[test]
fn help_explains_every_command() {
    let out = Command::new(env!("CARGO_BIN_EXE_encore"))
        .arg("--help")
        .output()
        .expect("run");
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "demo", "migrate", "keys", "import", "audit"] {
        assert!(help.contains(cmd), "{cmd} missing from --help:\n{help}");
    }
}

#[tokio::test]
async fn serve_answers_then_shuts_down_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let Some(env) = Env::new(false).await else {
        return;
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_encore"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .current_dir(env.dir.path())
        .env("ENCORE_DATABASE_URL", &env.url)
        .env("ENCORE_DATA_DIR", env.dir.path().join("data"))
        .env("ENCORE_LOG_FORMAT", "json")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start encore serve");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("encore serve exited before listening")
            .expect("read");
        let log: serde_json::Value = serde_json::from_str(&line).expect("logs are JSON lines");
        if let Some(addr) = log["fields"]["addr"].as_str() {
            break addr.to_owned();
        }
    };
    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .expect("healthz");
    assert_eq!(health.status().as_u16(), 200);
    assert!(health.headers().contains_key("x-request-id"));
    let ready = reqwest::get(format!("http://{addr}/readyz"))
        .await
        .expect("readyz");
    assert_eq!(ready.status().as_u16(), 200);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("wait");
    assert!(exit.success(), "encore serve exited with {exit}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("shutting down")), "{rest:?}");
}

/// Runs one statement on the test database directly, as someone tampering with it would.
async fn raw_sql(url: &str, sql: &str) {
    if url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::query(sql).execute(&mut conn).await.expect("raw sql");
        conn.close().await.ok();
    } else {
        let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
        sqlx::query(sql).execute(&mut conn).await.expect("raw sql");
        conn.close().await.ok();
    }
}

async fn audit_verify_story(postgres: bool) {
    use encore_core::rights::{Choice, Participation};
    use encore_core::{PartyKind, UseType};

    let Some(env) = Env::new(postgres).await else {
        return;
    };
    let store = env.store().await;
    let out = env.run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("audit log intact: 0 entries"),
        "{}",
        text(&out)
    );

    let party = store
        .create_party(
            &encore_store::PartyInput {
                ext_ref: None,
                name: "Mara Quinn".into(),
                kind: PartyKind::Person,
                ipi: None,
                isni: None,
            },
            None,
        )
        .await
        .expect("party");
    for choice in [Choice::Allow, Choice::Deny, Choice::Approve, Choice::Allow] {
        let p = Participation::new().with(UseType::Remix, choice);
        store
            .set_participation(&party.id, &p, Some("key_cli_test"))
            .await
            .expect("participation");
    }
    let out = env.run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("audit log intact: 4 entries"),
        "{}",
        text(&out)
    );

    // An edited entry is found, and putting it back makes the log whole again.
    let original = store.audit_entries(None, 1, 1).await.expect("entries");
    let original_after = original[0].after.replace('\'', "''");
    raw_sql(
        &env.url,
        "UPDATE audit_log SET after = '{\"party\":\"forged\"}' WHERE seq = 2",
    )
    .await;
    let out = env.run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("entry 2"), "{}", text(&out));
    raw_sql(
        &env.url,
        &format!("UPDATE audit_log SET after = '{original_after}' WHERE seq = 2"),
    )
    .await;
    let out = env.run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // The anchor names the last entry; a wrong one is found, a malformed one refused.
    let anchor = text(&out)
        .lines()
        .find_map(|l| l.strip_prefix("anchor: "))
        .and_then(|l| l.split_whitespace().next())
        .expect("an anchor line")
        .to_owned();
    assert!(anchor.starts_with("4:"), "{anchor}");
    let out = env.run(&["audit", "verify", "--anchor", &anchor]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let wrong = format!("2:{}", &anchor[2..]);
    let out = env.run(&["audit", "verify", "--anchor", &wrong]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("entry 2"), "{}", text(&out));
    let out = env.run(&["audit", "verify", "--anchor", "4:nothex"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--anchor"), "{}", text(&out));

    // Removing the latest entry leaves a whole chain, which only the anchor shows.
    raw_sql(&env.url, "DELETE FROM audit_log WHERE seq = 4").await;
    let out = env.run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("intact: 3 entries"), "{}", text(&out));
    let out = env.run(&["audit", "verify", "--anchor", &anchor]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("entry 4") && text(&out).contains("removed"),
        "{}",
        text(&out)
    );

    // A removed entry in the middle is found.
    raw_sql(&env.url, "DELETE FROM audit_log WHERE seq = 2").await;
    let out = env.run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("entry 3"), "{}", text(&out));
    store.close().await;
    env.drop_db().await;
}

#[tokio::test]
async fn audit_verify_finds_edited_and_removed_entries_sqlite() {
    audit_verify_story(false).await;
}

#[tokio::test]
async fn audit_verify_finds_edited_and_removed_entries_postgres() {
    audit_verify_story(true).await;
}

/// One `encore serve` process on `env`'s database, its address read from its JSON logs.
struct Server {
    child: std::process::Child,
    addr: String,
}

impl Server {
    fn start(env: &Env) -> Server {
        use std::io::{BufRead, BufReader};
        let mut child = Command::new(env!("CARGO_BIN_EXE_encore"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .current_dir(env.dir.path())
            .env("ENCORE_DATABASE_URL", &env.url)
            .env("ENCORE_DATA_DIR", env.dir.path().join("data"))
            .env("ENCORE_LOG_FORMAT", "json")
            // Check the change log on every request, so "the very next request" is exact; the
            // default lets another process's change take up to 100 ms.
            .env("ENCORE_SYNC_INTERVAL_MS", "0")
            .env_remove("ENCORE_CONFIG")
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start encore serve");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("encore serve exited before listening")
                .expect("read");
            let log: serde_json::Value = serde_json::from_str(&line).expect("logs are JSON lines");
            if let Some(addr) = log["fields"]["addr"].as_str() {
                break addr.to_owned();
            }
        };
        // Keep draining the logs so the process never blocks on a full pipe.
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        Server { child, addr }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let resp = reqwest::Client::new()
            .request(method, format!("http://{}{path}", self.addr))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    async fn post(&self, path: &str, key: &str, body: serde_json::Value) -> serde_json::Value {
        let (status, body) = self.send(reqwest::Method::POST, path, key, body).await;
        assert!((200..300).contains(&status), "POST {path}: {status} {body}");
        body
    }

    fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait");
        assert!(exit.success(), "encore serve exited with {exit}");
    }
}

#[tokio::test]
async fn revocation_through_one_replica_is_honoured_by_the_next_check_on_another_postgres() {
    use serde_json::json;
    let Some(env) = Env::new(true).await else {
        return;
    };
    let out = env.run(&["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = env.run(&["keys", "create", "--role", "admin", "--name", "operator"]);
    assert!(out.status.success(), "{}", text(&out));
    let admin = String::from_utf8_lossy(&out.stdout).trim().to_owned();

    let a = Server::start(&env);
    let b = Server::start(&env);
    let id = |v: serde_json::Value| v["id"].as_str().expect("id").to_owned();
    let label = id(a
        .post(
            "/v1/parties",
            &admin,
            json!({"name": "Northern Lights Records", "kind": "organisation"}),
        )
        .await);
    let artist = id(a
        .post(
            "/v1/parties",
            &admin,
            json!({"name": "Mara Quinn", "kind": "person"}),
        )
        .await);
    let work = id(a
        .post(
            "/v1/works",
            &admin,
            json!({"title": "Night Drive", "writers": [artist],
                   "splits": [{"party": label, "share_ppm": 1000000}]}),
        )
        .await);
    let recording = id(a
        .post(
            "/v1/recordings",
            &admin,
            json!({"isrc": "USRC17607839", "title": "Night Drive", "artists": [artist], "works": [work],
                   "splits": [{"party": label, "share_ppm": 1000000}]}),
        )
        .await);
    let secret = |v: serde_json::Value| v["secret"].as_str().expect("secret").to_owned();
    let label_key = secret(
        a.post(
            "/v1/keys",
            &admin,
            json!({"role": "partner", "parties": [label], "name": "label"}),
        )
        .await,
    );
    let artist_key = secret(
        a.post(
            "/v1/keys",
            &admin,
            json!({"role": "artist", "parties": [artist], "name": "artist"}),
        )
        .await,
    );
    let fan_created = a
        .post(
            "/v1/keys",
            &admin,
            json!({"role": "fan", "parties": [], "name": "fan"}),
        )
        .await;
    let fan_id = fan_created["key"]["id"]
        .as_str()
        .or(fan_created["id"].as_str())
        .expect("key id")
        .to_owned();
    let fan = secret(fan_created);
    let agreement = id(a
        .post(
            "/v1/agreements",
            &admin,
            json!({"licensor": label, "scope": {"kind": "all"}, "uses": ["remix"],
                   "territories": {"world": true}, "starts_at": "2020-01-01T00:00:00Z"}),
        )
        .await);
    a.post(
        &format!("/v1/agreements/{agreement}/accept"),
        &label_key,
        json!({}),
    )
    .await;
    let (status, body) = a
        .send(
            reqwest::Method::PUT,
            &format!("/v1/parties/{artist}/participation"),
            &artist_key,
            json!({"uses": {"remix": "allow"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let remix = json!({"use": "remix", "recordings": [recording], "territory": "US"});
    let d = b.post("/v1/rights/check", &fan, remix.clone()).await;
    assert_eq!(d["allowed"], true, "{d}");

    let revoked = a
        .post(
            &format!("/v1/agreements/{agreement}/revoke"),
            &label_key,
            json!({}),
        )
        .await;
    assert_eq!(revoked["status"], "revoked", "{revoked}");
    // The very next check on the other process sees it: b's in-memory copies follow the
    // change log, which it reads before every request.
    let d = b.post("/v1/rights/check", &fan, remix.clone()).await;
    assert_eq!(d["allowed"], false, "{d}");
    let codes: Vec<&str> = d["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect();
    // One reason for the recording and one for its work, both the label's revoked agreement.
    assert_eq!(codes, ["AGREEMENT_REVOKED", "AGREEMENT_REVOKED"], "{d}");
    assert_eq!(d["reasons"][0]["agreement"], agreement.as_str(), "{d}");
    assert_eq!(d["reasons"][0]["party"], label.as_str(), "{d}");

    // A catalog change made on a reaches b's copies too: a second owner, with no agreement,
    // joins the recording's master splits.
    let other = id(a
        .post(
            "/v1/parties",
            &admin,
            json!({"name": "Second Label", "kind": "organisation"}),
        )
        .await);
    let (status, body) = a
        .send(
            reqwest::Method::PATCH,
            &format!("/v1/recordings/{recording}"),
            &admin,
            json!({"splits": [{"party": label, "share_ppm": 500000},
                              {"party": other, "share_ppm": 500000}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let d = b.post("/v1/rights/check", &fan, remix.clone()).await;
    let no_agreement: Vec<&str> = d["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter(|r| r["code"] == "NO_AGREEMENT")
        .filter_map(|r| r["party"].as_str())
        .collect();
    assert_eq!(no_agreement, [other.as_str()], "{d}");

    // And a key revoked on a is refused by b at once.
    let (status, body) = a
        .send(
            reqwest::Method::DELETE,
            &format!("/v1/keys/{fan_id}"),
            &admin,
            json!({}),
        )
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
    let (status, body) = b
        .send(reqwest::Method::POST, "/v1/rights/check", &fan, remix)
        .await;
    assert_eq!(status, 401, "{body}");

    a.stop();
    b.stop();
    env.drop_db().await;
}
