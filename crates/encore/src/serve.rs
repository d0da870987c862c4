//! Opening the stores, serving HTTP, logging and graceful shutdown.

use std::net::SocketAddr;

use anyhow::Context;
use encore_blob::BlobStore;
use std::time::Duration;

use encore_store::Store;
use tokio::net::TcpListener;

use crate::config::Config;

/// Logs to stderr as text or JSON; `RUST_LOG` filters (default `info`).
pub fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.compact().try_init()
    };
}

/// Opens (and migrates) the database and object storage the configuration names.
pub async fn open(config: &Config) -> anyhow::Result<(Store, BlobStore)> {
    let store = Store::open(config.database_url.expose())
        .await
        .with_context(|| format!("opening the database {}", config.database_url))?;
    store.set_sync_interval(config.sync_interval);
    store.spawn_checkpointer(Duration::from_millis(250));
    let blobs = BlobStore::open(&config.blob_url)
        .with_context(|| format!("opening object storage {}", config.blob_url))?;
    Ok((store, blobs))
}

/// Serves until SIGINT or SIGTERM, then stops accepting, lets in-flight requests finish
/// within the deadline, and closes the database.
pub async fn serve(
    config: &Config,
    store: Store,
    blobs: BlobStore,
    on_listen: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.bind).await.with_context(|| {
        format!(
            "cannot listen on {}; is another server using it? set --bind",
            config.bind
        )
    })?;
    let addr = listener.local_addr()?;
    let state = encore_api::AppState::new(store.clone(), blobs, config.api.clone());
    let app = encore_api::router(state.clone());
    on_listen(addr);
    // Fingerprint mixes uploaded before fingerprints were kept, then load every fingerprint
    // into the identify index; identify requests sync what they need meanwhile.
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        match encore_api::identify::backfill(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(recordings = n, "fingerprinted mixes uploaded earlier"),
            Err(e) => {
                tracing::warn!(error = %e, "fingerprinting earlier mixes failed; identify will not find them")
            }
        }
        match state.fingerprints.sync(&state.store).await {
            Ok(_) => tracing::info!(
                recordings = state.fingerprints.len(),
                seconds = started.elapsed().as_secs_f64(),
                "fingerprints loaded for identify"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "loading fingerprints failed; identify loads them on first use")
            }
        }
    });
    // Load the catalog's rights facts into memory in the background; until it is done,
    // decisions read what they miss from the database, so serving need not wait.
    let warm = store.clone();
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        match warm.warm_rights().await {
            Ok(r) => tracing::info!(
                recordings = r.recordings,
                works = r.works,
                parties = r.parties,
                agreements = r.agreements,
                seconds = started.elapsed().as_secs_f64(),
                "rights facts loaded into memory"
            ),
            Err(e) => tracing::warn!(
                error = %e,
                "loading rights facts into memory failed; decisions read the database instead"
            ),
        }
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut stop_wait = stop_rx.clone();
    // Responses go out as soon as they are written: without TCP_NODELAY, a response that
    // leaves in two segments can wait for the client's delayed ACK (up to 40 ms on Linux).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY on a connection");
        }
    });
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stop_wait.wait_for(|s| *s).await;
    });
    let deadline = config.shutdown_deadline;
    let signal = async move {
        shutdown_signal().await;
        tracing::info!(
            deadline_s = deadline.as_secs(),
            "shutting down: finishing in-flight requests"
        );
        let _ = stop_tx.send(true);
        tokio::time::sleep(deadline).await;
    };
    tokio::select! {
        result = server => result.context("the HTTP server failed")?,
        () = signal => tracing::warn!("shutdown deadline passed; dropping the requests still running"),
    }
    drop(stop_rx);
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
