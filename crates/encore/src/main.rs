//! The `encore` binary: one program for the server, the demo, migrations, keys, imports and
//! generators.

mod config;
mod demo;
mod generate;
mod import;
mod serve;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{Config, Overrides};

/// mimalloc instead of glibc's allocator: a rights check allocates a few hundred small blocks
/// across two runtime threads and the decision writer, and in `perf` glibc's malloc and free
/// took about an eighth of the server's CPU at 5,000 checks/s (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// encore: artist-first generative music. Consent, credit and pay for every AI use of a catalog.
#[derive(Parser)]
#[command(name = "encore", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    overrides: Overrides,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API server.
    Serve,
    /// Load a demo catalog with rendered audio, print keys and example requests, and serve it.
    Demo(demo::DemoArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create, list or revoke API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Import a catalog file (CSV or JSON Lines): parties, works, recordings and splits.
    Import(import::ImportArgs),
    /// Check the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Run a generator (remix, mashup, cover) on local audio files and write the result.
    Generate(generate::GenerateArgs),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute every entry's hash and link; exit 1 naming the first edited or missing entry.
    /// Prints the last entry as an anchor (SEQ:HASH) to keep outside the database.
    Verify {
        /// An anchor printed by an earlier verify (SEQ:HASH): also checks that this entry is
        /// still in the log with that hash, so removing the latest entries is found too.
        #[arg(long, value_parser = parse_anchor)]
        anchor: Option<(i64, String)>,
    },
}

/// `SEQ:HASH`, as `encore audit verify` prints it.
fn parse_anchor(text: &str) -> Result<(i64, String), String> {
    let bad = || {
        format!(
            "'{text}' is not an anchor; give SEQ:HASH as `encore audit verify` printed it, \
             e.g. 4:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        )
    };
    let (seq, hash) = text.split_once(':').ok_or_else(bad)?;
    let seq: i64 = seq.parse().map_err(|_| bad())?;
    let hash_ok = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    if seq < 1 || !hash_ok {
        return Err(bad());
    }
    Ok((seq, hash.to_ascii_lowercase()))
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key and print its secret (shown once).
    Create {
        /// admin, partner, artist, fan or worker.
        #[arg(long)]
        role: String,
        /// A party id the key acts for (repeat for several; partners need one or more).
        #[arg(long = "party")]
        parties: Vec<String>,
        /// A label for people.
        #[arg(long)]
        name: Option<String>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key at once.
    Revoke {
        /// The key id (key_…).
        id: String,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(&cli.overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    serve::init_tracing(config.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<std::process::ExitCode> {
    match command {
        Command::Serve => {
            let (store, blobs) = serve::open(&config).await?;
            serve::serve(
                &config,
                store,
                blobs,
                |addr| tracing::info!(%addr, "encore is listening"),
            )
            .await?;
        }
        Command::Demo(args) => demo::run(&config, args).await?,
        Command::Migrate => {
            let store = encore_store::Store::connect(config.database_url.expose())
                .await
                .with_context(|| format!("connecting to {}", config.database_url))?;
            store.migrate().await.context("applying migrations")?;
            println!("migrations applied to {}", config.database_url);
        }
        Command::Keys(cmd) => keys(&config, cmd).await?,
        Command::Import(args) => return import::run(&config, args).await,
        Command::Audit(AuditCommand::Verify { anchor }) => {
            return audit_verify(&config, anchor).await;
        }
        Command::Generate(args) => {
            return tokio::task::spawn_blocking(move || generate::run(args))
                .await
                .context("the generator thread stopped")?;
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

async fn audit_verify(
    config: &Config,
    anchor: Option<(i64, String)>,
) -> anyhow::Result<std::process::ExitCode> {
    let (store, _) = serve::open(config).await?;
    let report = store
        .verify_audit()
        .await
        .context("reading the audit log")?;
    if !report.ok {
        println!(
            "audit log broken at entry {}: {}",
            report.first_bad_seq.unwrap_or_default(),
            report.reason.unwrap_or_default()
        );
        return Ok(std::process::ExitCode::FAILURE);
    }
    if let Some((seq, hash)) = &anchor {
        let found = store
            .audit_entries(None, seq - 1, 1)
            .await
            .context("reading the anchored entry")?;
        match found.first() {
            Some(e) if e.seq == *seq && e.hash == *hash => {}
            Some(e) if e.seq == *seq => {
                println!(
                    "audit log broken at entry {seq}: its hash is {}, not the anchor's {hash}; \
                     the log was rewritten from there on",
                    e.hash
                );
                return Ok(std::process::ExitCode::FAILURE);
            }
            _ => {
                println!(
                    "audit log broken at entry {seq}: the anchor names it but the log ends at \
                     entry {}; the latest entries were removed",
                    report.entries
                );
                return Ok(std::process::ExitCode::FAILURE);
            }
        }
    }
    println!("audit log intact: {} entries", report.entries);
    if let Some(hash) = &report.last_hash {
        println!(
            "anchor: {}:{hash} (keep it outside the database; `encore audit verify --anchor` with \
             it later also finds removed latest entries)",
            report.entries
        );
    }
    Ok(std::process::ExitCode::SUCCESS)
}

async fn keys(config: &Config, cmd: KeysCommand) -> anyhow::Result<()> {
    let (store, _) = serve::open(config).await?;
    match cmd {
        KeysCommand::Create {
            role,
            parties,
            name,
        } => {
            let new = encore_api::keys::validate_new_key(&store, &role, parties, name)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.detail))?;
            let created = store.create_key(&new).await?;
            eprintln!(
                "created {} key {} (the secret below is shown once; store it now)",
                new.role.as_str(),
                created.key.id
            );
            println!("{}", created.secret);
        }
        KeysCommand::List => {
            for k in store.keys().await? {
                let state = if k.revoked_at_ms.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}…\t{}\t{}\t{}",
                    k.id,
                    k.role.as_str(),
                    k.prefix,
                    state,
                    k.parties.join(","),
                    k.name
                );
            }
        }
        KeysCommand::Revoke { id } => {
            let k = store.revoke_key(&id).await?;
            println!("revoked {} ({})", k.id, k.role.as_str());
        }
    }
    Ok(())
}
