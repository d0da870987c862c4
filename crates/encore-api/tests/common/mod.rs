//! The test harness: a real server on port 0 over a fresh database, driven through HTTP.
//!
//! SQLite runs always. PostgreSQL runs whenever `ENCORE_TEST_POSTGRES_URL` names a server
//! (`.ci/run` sets it); each test gets its own database, dropped afterwards.

#![allow(dead_code)]

pub mod rights;

use std::time::Duration;

use encore_api::{ApiConfig, AppState};
use encore_blob::BlobStore;
use encore_core::Role;
use encore_store::{NewKey, Store};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;

/// Which engine a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub admin: String,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
    server: tokio::task::JoinHandle<()>,
}

/// A JSON answer.
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

impl Answer {
    /// Asserts an RFC 9457 problem with this status, naming `field` when given.
    #[track_caller]
    pub fn problem(&self, status: u16, field: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(
            self.content_type, "application/problem+json",
            "body: {}",
            self.body
        );
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("/docs/problems#"))
        );
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        if let Some(field) = field {
            let fields: Vec<&str> = self.body["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["field"].as_str())
                .collect();
            assert!(
                fields.contains(&field),
                "expected field {field} in {}",
                self.body
            );
        }
    }

    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        &self.body
    }
}

pub fn postgres_url() -> Option<String> {
    std::env::var("ENCORE_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

impl TestApp {
    pub async fn spawn(db: Db) -> Option<TestApp> {
        Self::spawn_with(db, ApiConfig::default()).await
    }

    /// Starts a server, or `None` when the engine is not configured here.
    pub async fn spawn_with(db: Db, config: ApiConfig) -> Option<TestApp> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, pg) = match db {
            Db::Sqlite => (
                format!("sqlite://{}", dir.path().join("encore.db").display()),
                None,
            ),
            Db::Postgres => {
                let Some(admin_url) = postgres_url() else {
                    eprintln!("skipped on PostgreSQL: ENCORE_TEST_POSTGRES_URL is not set");
                    return None;
                };
                let name = format!("encore_t_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .expect("connect to PostgreSQL");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create database");
                conn.close().await.ok();
                let (base, _) = admin_url.rsplit_once('/').expect("URL has a database");
                (format!("{base}/{name}"), Some((admin_url, name)))
            }
        };
        let store = Store::open(&url).await.expect("open store");
        let blobs =
            BlobStore::open(dir.path().join("blobs").to_str().expect("utf-8")).expect("blobs");
        let admin = store
            .create_key(&NewKey {
                role: Role::Admin,
                parties: vec![],
                name: "test admin".into(),
            })
            .await
            .expect("admin key")
            .secret;
        let app = encore_api::router(AppState::new(store.clone(), blobs, config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        Some(TestApp {
            base,
            client,
            store,
            admin,
            _dir: dir,
            pg,
            server,
        })
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        Self::answer(req.send().await.expect("request")).await
    }

    pub async fn answer(resp: reqwest::Response) -> Answer {
        let status = resp.status();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = resp.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            content_type,
            body,
        }
    }

    pub async fn get(&self, path: &str, key: &str) -> Answer {
        self.call(Method::GET, path, Some(key), None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(key), Some(body)).await
    }

    pub async fn patch(&self, path: &str, key: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(key), Some(body)).await
    }

    pub async fn put_bytes(
        &self,
        path: &str,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Answer {
        let req = self
            .client
            .put(format!("{}{path}", self.base))
            .bearer_auth(key)
            .header("content-type", content_type)
            .body(bytes);
        Self::answer(req.send().await.expect("request")).await
    }

    /// Creates a key through the API and returns its secret.
    pub async fn key(&self, role: &str, parties: &[&str]) -> String {
        let a = self
            .post(
                "/v1/keys",
                &self.admin,
                json!({"role": role, "parties": parties, "name": "test"}),
            )
            .await;
        a.ok(201)["secret"].as_str().expect("secret").to_owned()
    }

    /// Creates a party as admin and returns its id.
    pub async fn party(&self, name: &str, kind: &str) -> String {
        let a = self
            .post(
                "/v1/parties",
                &self.admin,
                json!({"name": name, "kind": kind}),
            )
            .await;
        a.ok(201)["id"].as_str().expect("id").to_owned()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        if let Some((admin_url, name)) = self.pg.take() {
            // Drop runs outside async; a short-lived runtime on its own thread removes the
            // test database so runs leave nothing behind. FORCE ends the pool's connections
            // (closing the pool from here would wait on the test's blocked runtime).
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut conn)
                                .await;
                    }
                });
            })
            .join();
        }
    }
}

/// Defines a story test that runs on SQLite, and on PostgreSQL when it is configured.
#[macro_export]
macro_rules! story {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: common::TestApp) $body

            #[tokio::test]
            async fn sqlite() {
                run(common::TestApp::spawn(common::Db::Sqlite).await.expect("sqlite")).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(app) = common::TestApp::spawn(common::Db::Postgres).await {
                    run(app).await;
                }
            }
        }
    };
}
