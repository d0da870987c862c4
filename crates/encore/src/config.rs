//! Configuration: defaults give the embedded mode; a TOML file, then `ENCORE_*` environment
//! variables, then flags override (clap reads flag-or-environment, this file layers the rest).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

/// A value that must never be printed: `Debug` and `Display` show a redacted form.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

/// Hides the password of a URL (`postgres://user:***@host/db`); anything else that is not a
/// URL is shown only by its scheme-less shape.
pub fn redact_url(s: &str) -> String {
    match (s.find("://"), s.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &s[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:[redacted]{}", &s[..scheme_end + 3], &s[at..])
        }
        _ => s.to_owned(),
    }
}

/// The file's shape. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Folder for the embedded database and local object storage.
    pub data_dir: Option<PathBuf>,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: Option<String>,
    /// A folder, `file://…` or `s3://bucket/prefix`.
    pub blob_url: Option<String>,
    /// Address to listen on.
    pub bind: Option<SocketAddr>,
    /// `text` or `json`.
    pub log_format: Option<String>,
    /// Largest audio upload, MiB.
    pub audio_upload_max_mib: Option<usize>,
    /// Seconds to finish in-flight requests at shutdown.
    pub shutdown_deadline_s: Option<u64>,
    /// Most milliseconds a process may answer from its in-memory copies without checking the
    /// database's change log (its own writes are always seen at once).
    pub sync_interval_ms: Option<u64>,
}

/// What flags and environment gave (clap's output).
#[derive(Debug, Default, Clone, clap::Args)]
pub struct Overrides {
    /// Config file (TOML). Default: ./encore.toml when it exists.
    #[arg(long, global = true, env = "ENCORE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Folder for the embedded database and local object storage [default: ./encore-data].
    #[arg(long, global = true, env = "ENCORE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database: sqlite://path or postgres://… [default: sqlite in the data folder].
    #[arg(
        long,
        global = true,
        env = "ENCORE_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Object storage: a folder, file://… or s3://bucket/prefix [default: blobs/ in the data folder].
    #[arg(long, global = true, env = "ENCORE_BLOB_URL")]
    pub blob_url: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, global = true, env = "ENCORE_BIND")]
    pub bind: Option<SocketAddr>,
    /// Log format: text or json [default: text].
    #[arg(long, global = true, env = "ENCORE_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Most ms another process's change (a revocation, say) may take to be seen here; 0 checks
    /// on every request [default: 100].
    #[arg(long, global = true, env = "ENCORE_SYNC_INTERVAL_MS")]
    pub sync_interval_ms: Option<u64>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data folder.
    pub data_dir: PathBuf,
    /// Database URL (may hold a password).
    pub database_url: Secret,
    /// Object storage location.
    pub blob_url: String,
    /// Listen address.
    pub bind: SocketAddr,
    /// Whether logs are JSON.
    pub log_json: bool,
    /// HTTP limits.
    pub api: encore_api::ApiConfig,
    /// Time allowed to finish in-flight requests at shutdown.
    pub shutdown_deadline: Duration,
    /// Longest a request may skip checking the change log (`Store::set_sync_interval`).
    pub sync_interval: Duration,
}

impl Config {
    /// Layers defaults, the file, and the overrides.
    pub fn load(o: &Overrides) -> anyhow::Result<Self> {
        let file = match &o.config {
            Some(path) => read_file(path)?,
            None if Path::new("encore.toml").exists() => read_file(Path::new("encore.toml"))?,
            None => FileConfig::default(),
        };
        let data_dir = o
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("encore-data"));
        let database_url = o
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("encore.db").display()));
        let blob_url = o
            .blob_url
            .clone()
            .or(file.blob_url)
            .unwrap_or_else(|| data_dir.join("blobs").display().to_string());
        let bind = o
            .bind
            .or(file.bind)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let log_format = o
            .log_format
            .clone()
            .or(file.log_format)
            .unwrap_or_else(|| "text".into());
        let log_json = match log_format.as_str() {
            "text" => false,
            "json" => true,
            other => anyhow::bail!("log format '{other}' is unknown: use text or json"),
        };
        let mut api = encore_api::ApiConfig::default();
        if let Some(mib) = file.audio_upload_max_mib {
            api.audio_body_max_bytes = mib * 1024 * 1024;
        }
        Ok(Self {
            data_dir,
            database_url: Secret::new(database_url),
            blob_url,
            bind,
            log_json,
            api,
            shutdown_deadline: Duration::from_secs(file.shutdown_deadline_s.unwrap_or(30)),
            sync_interval: Duration::from_millis(
                o.sync_interval_ms.or(file.sync_interval_ms).unwrap_or(100),
            ),
        })
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("config file {} is not valid", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let s = Secret::new("postgres://encore:hunter2@db.example:5432/encore");
        assert_eq!(
            format!("{s:?}"),
            "postgres://encore:[redacted]@db.example:5432/encore"
        );
        assert!(!format!("{s}").contains("hunter2"));
    }

    #[test]
    fn defaults_are_embedded_and_flags_win_over_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("encore.toml");
        std::fs::write(
            &file,
            "bind = \"127.0.0.1:9000\"\ndata_dir = \"/srv/encore\"\n",
        )
        .expect("write");
        let o = Overrides {
            config: Some(file),
            bind: Some("127.0.0.1:9100".parse().expect("addr")),
            ..Default::default()
        };
        let c = Config::load(&o).expect("load");
        assert_eq!(c.bind.port(), 9100);
        assert_eq!(c.data_dir, PathBuf::from("/srv/encore"));
        assert_eq!(c.database_url.expose(), "sqlite:///srv/encore/encore.db");
        let c = Config::load(&Overrides::default()).expect("defaults");
        assert_eq!(c.bind, SocketAddr::from(([127, 0, 0, 1], 8080)));
        assert!(c.database_url.expose().starts_with("sqlite://"));
    }
}
