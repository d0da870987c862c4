//! `encore demo`: a catalog that sounds real, loaded into the embedded store and served.
//!
//! The catalog (parties, works, recordings, splits) goes in through the same idempotent import
//! path as `encore import`, so running the demo twice changes nothing. Each song's stems are
//! composed and rendered by `encore-engine` through a General MIDI SoundFont, checked by the
//! same decoder as uploads, and stored content-addressed.

use std::path::PathBuf;

use anyhow::Context;
use bytes::Bytes;
use encore_blob::BlobStore;
use encore_core::{Ipi, Isrc, Iswc, PartyKind, Role, Share, Splits};
use encore_engine::{SoundFontBank, demo_songs, render_song};
use encore_store::{
    AudioAsset, AudioSlot, ImportBatch, ImportParty, ImportRecording, ImportWork, NewFingerprint,
    NewKey, Store,
};

use crate::config::Config;

/// Arguments of `encore demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Load the catalog and print keys, then exit instead of serving.
    #[arg(long)]
    pub no_serve: bool,
    /// Render at most this many seconds of each song (for quick checks).
    #[arg(long)]
    pub seconds: Option<u32>,
    /// The General MIDI SoundFont to render with.
    #[arg(long, env = "ENCORE_SOUNDFONT", default_value = encore_engine::DEFAULT_SOUNDFONT_PATH)]
    pub soundfont: PathBuf,
}

/// (ref, name, kind, IPI)
const PARTIES: &[(&str, &str, PartyKind, Option<&str>)] = &[
    (
        "demo-mara-quinn",
        "Mara Quinn",
        PartyKind::Person,
        Some("00523879412"),
    ),
    (
        "demo-teo-alvarez",
        "Teo Alvarez",
        PartyKind::Person,
        Some("00618845230"),
    ),
    (
        "demo-juno-park",
        "Juno Park",
        PartyKind::Person,
        Some("00734410987"),
    ),
    (
        "demo-sol-adeyemi",
        "Sol Adeyemi",
        PartyKind::Person,
        Some("00845527716"),
    ),
    (
        "demo-ivy-marchetti",
        "Ivy Marchetti",
        PartyKind::Person,
        Some("00912236654"),
    ),
    (
        "demo-rafael-costa",
        "Rafael Costa",
        PartyKind::Person,
        Some("01023347781"),
    ),
    (
        "demo-lena-holm",
        "Lena Holm",
        PartyKind::Person,
        Some("01134458892"),
    ),
    (
        "demo-northern-lights",
        "Northern Lights Records",
        PartyKind::Organisation,
        None,
    ),
    (
        "demo-blue-harbor",
        "Blue Harbor Music",
        PartyKind::Organisation,
        None,
    ),
    (
        "demo-meridian",
        "Meridian Publishing",
        PartyKind::Organisation,
        Some("00298765432"),
    ),
    (
        "demo-open-sky",
        "Open Sky Songs",
        PartyKind::Organisation,
        Some("00376543219"),
    ),
];

const ARTISTS: [&str; 4] = [
    "demo-mara-quinn",
    "demo-teo-alvarez",
    "demo-juno-park",
    "demo-sol-adeyemi",
];
const WRITERS: [&str; 4] = [
    "demo-mara-quinn",
    "demo-ivy-marchetti",
    "demo-rafael-costa",
    "demo-lena-holm",
];
const LABELS: [&str; 2] = ["demo-northern-lights", "demo-blue-harbor"];
const PUBLISHERS: [&str; 2] = ["demo-meridian", "demo-open-sky"];

/// An ISWC with a correct check digit for a 9-digit work number.
fn iswc_for(n: u32) -> String {
    let digits = format!("{:09}", 100_000_000 + n);
    let sum: u32 = 1 + digits
        .bytes()
        .enumerate()
        .map(|(i, d)| (i as u32 + 1) * u32::from(d - b'0'))
        .sum::<u32>();
    format!("T{digits}{}", (10 - sum % 10) % 10)
}

fn share(ppm: u32) -> anyhow::Result<Share> {
    Share::from_ppm(ppm).map_err(|e| anyhow::anyhow!("demo share: {e}"))
}

fn splits(entries: &[(&str, u32)]) -> anyhow::Result<Splits<String>> {
    let entries = entries
        .iter()
        .map(|(p, s)| Ok(((*p).to_owned(), share(*s)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Splits::new(entries).map_err(|e| anyhow::anyhow!("demo splits: {e}"))
}

/// The demo catalog as import rows. The last song has no master splits yet, as happens when a
/// label registers a track before its deal is final: it stays unusable for AI.
fn catalog(titles: &[&str]) -> anyhow::Result<ImportBatch> {
    let mut batch = ImportBatch::default();
    for (i, (ext_ref, name, kind, ipi)) in PARTIES.iter().enumerate() {
        batch.parties.push(ImportParty {
            line: i as u64 + 1,
            ext_ref: (*ext_ref).to_owned(),
            name: (*name).to_owned(),
            kind: *kind,
            ipi: ipi
                .map(Ipi::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("demo IPI: {e}"))?,
            isni: None,
        });
    }
    for (i, title) in titles.iter().enumerate() {
        let n = i as u32;
        let writer_a = WRITERS[i % 4];
        let writer_b = WRITERS[(i + 1) % 4];
        let publisher = PUBLISHERS[i % 2];
        let artist = ARTISTS[i % 4];
        let label = LABELS[i % 2];
        let work_ref = format!("demo-work-{:02}", i + 1);
        batch.works.push(ImportWork {
            line: 100 + u64::from(n),
            ext_ref: work_ref.clone(),
            iswc: Some(
                Iswc::parse(&iswc_for(n + 1)).map_err(|e| anyhow::anyhow!("demo ISWC: {e}"))?,
            ),
            title: (*title).to_owned(),
            writers: vec![writer_a.to_owned(), writer_b.to_owned()],
            splits: Some(splits(&[
                (writer_a, 250_000),
                (writer_b, 250_000),
                (publisher, 500_000),
            ])?),
        });
        let master = if i + 1 == titles.len() {
            None
        } else {
            Some(splits(&[(label, 800_000), (artist, 200_000)])?)
        };
        batch.recordings.push(ImportRecording {
            line: 200 + u64::from(n),
            ext_ref: Some(format!("demo-rec-{:02}", i + 1)),
            isrc: Isrc::parse(&format!("QZDA726{:05}", n + 1))
                .map_err(|e| anyhow::anyhow!("demo ISRC: {e}"))?,
            title: (*title).to_owned(),
            duration_ms: None,
            artists: vec![artist.to_owned()],
            works: vec![work_ref],
            splits: master,
        });
    }
    Ok(batch)
}

/// Loads the catalog and renders any audio not yet stored; each recording's declared duration
/// becomes its rendered mix's measured one. Returns the number of recordings.
pub async fn load(store: &Store, blobs: &BlobStore, args: &DemoArgs) -> anyhow::Result<usize> {
    let songs = demo_songs();
    let titles: Vec<&str> = songs.iter().map(|s| s.title).collect();
    let outcome = store
        .import(&catalog(&titles)?)
        .await
        .context("loading the demo catalog")?;
    anyhow::ensure!(
        outcome.errors.is_empty(),
        "the demo catalog was refused: {:?}",
        outcome.errors
    );

    let mut missing = Vec::new();
    for (i, song) in songs.into_iter().enumerate() {
        let isrc =
            Isrc::parse(&format!("QZDA726{:05}", i + 1)).map_err(|e| anyhow::anyhow!("{e}"))?;
        let rec = store
            .recording_by_isrc(&isrc)
            .await?
            .context("a demo recording vanished")?;
        if !rec.audio.iter().any(|a| a.slot == AudioSlot::Mix) {
            missing.push((rec, song));
        }
    }
    if missing.is_empty() {
        eprintln!("demo: catalog and audio already loaded");
        return Ok(titles.len());
    }
    let bank = SoundFontBank::load(&args.soundfont).map_err(|e| {
        anyhow::anyhow!(
            "{e}\nhint: install Debian's fluid-soundfont-gm package, or pass --soundfont PATH"
        )
    })?;
    let total = missing.len();
    let progress = indicatif::ProgressBar::new(total as u64);
    progress.set_style(
        indicatif::ProgressStyle::with_template("rendering demo audio {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let plain = !std::io::IsTerminal::is_terminal(&std::io::stderr());
    // Two songs render at a time: the synthesiser is single-threaded and this machine class
    // has two cores.
    let seconds = args.seconds;
    let mut queue = missing.into_iter();
    let mut done = 0;
    loop {
        let pair: Vec<_> = queue.by_ref().take(2).collect();
        if pair.is_empty() {
            break;
        }
        let mut tasks = Vec::new();
        for (rec, song) in pair {
            let bank = bank.clone();
            tasks.push(tokio::task::spawn_blocking(move || {
                render_song(&bank, &song, seconds).map(|r| (rec, song.title, r))
            }));
        }
        for task in tasks {
            let (rec, title, rendered) = task
                .await
                .context("a render thread panicked")?
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            for stem in rendered.stems {
                store_audio(store, blobs, &rec.id, AudioSlot::Stem(stem.name), stem.wav).await?;
            }
            let duration_ms =
                store_audio(store, blobs, &rec.id, AudioSlot::Mix, rendered.mix_wav).await?;
            // The declared duration is the rendered mix's measured one.
            let mut fields = rec.fields.clone();
            fields.duration_ms = Some(duration_ms);
            store.update_recording(&rec.id, &fields).await?;
            done += 1;
            progress.inc(1);
            progress.set_message(title.to_owned());
            if plain {
                eprintln!("demo: rendered {done}/{total} {title}");
            }
        }
    }
    progress.finish_and_clear();
    Ok(titles.len())
}

async fn store_audio(
    store: &Store,
    blobs: &BlobStore,
    rec_id: &str,
    slot: AudioSlot,
    wav: Vec<u8>,
) -> anyhow::Result<i64> {
    let (info, print) = encore_engine::fingerprint::probe_and_fingerprint(&wav, u64::MAX)
        .map_err(|e| anyhow::anyhow!("rendered audio does not decode: {e}"))?;
    let fingerprint = (slot == AudioSlot::Mix && !print.is_empty()).then(|| NewFingerprint {
        algorithm: i64::from(encore_engine::fingerprint::ALGORITHM),
        items: print.to_bytes(),
    });
    let blob = blobs.put(Bytes::from(wav)).await?;
    let asset = AudioAsset {
        slot,
        sha256: blob.sha256,
        size_bytes: i64::try_from(blob.size_bytes)?,
        format: info.format.as_str().to_owned(),
        codec: info.codec,
        sample_rate: i64::from(info.sample_rate),
        channels: i64::from(info.channels),
        duration_ms: i64::try_from(info.duration_ms)?,
        uploaded_by: None,
        uploaded_at_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or_default(),
    };
    store
        .put_audio(rec_id, &asset, fingerprint.as_ref())
        .await?;
    Ok(asset.duration_ms)
}

/// Keys for each role, labelled `demo …`.
async fn keys(store: &Store) -> anyhow::Result<Vec<(&'static str, &'static str, String)>> {
    let party_id = |r: &str| {
        let r = r.to_owned();
        async move {
            store
                .parties(&encore_store::ListQuery {
                    q: None,
                    cursor: None,
                    limit: Some(200),
                })
                .await
                .map(|p| {
                    p.items
                        .into_iter()
                        .find(|p| p.fields.ext_ref.as_deref() == Some(r.as_str()))
                        .map(|p| p.id)
                })
        }
    };
    let label = party_id("demo-northern-lights")
        .await?
        .context("demo label missing")?;
    let artist = party_id("demo-mara-quinn")
        .await?
        .context("demo artist missing")?;
    let wanted: [(&str, &str, Role, Vec<String>); 5] = [
        ("ADMIN", "operator", Role::Admin, vec![]),
        (
            "PARTNER",
            "Northern Lights Records",
            Role::Partner,
            vec![label],
        ),
        ("ARTIST", "Mara Quinn", Role::Artist, vec![artist]),
        ("FAN", "a fan", Role::Fan, vec![]),
        ("WORKER", "model worker", Role::Worker, vec![]),
    ];
    let mut out = Vec::new();
    for (var, who, role, parties) in wanted {
        let created = store
            .create_key(&NewKey {
                role,
                parties,
                name: format!("demo {who}"),
            })
            .await?;
        out.push((var, who, created.secret));
    }
    Ok(out)
}

/// Runs `encore demo`.
pub async fn run(config: &Config, args: DemoArgs) -> anyhow::Result<()> {
    let (store, blobs) = crate::serve::open(config).await?;
    let count = load(&store, &blobs, &args).await?;
    let keys = keys(&store).await?;
    let env_file = config.data_dir.join("demo-keys.env");
    let env_text: String = keys
        .iter()
        .map(|(var, _, secret)| format!("export ENCORE_{var}_KEY={secret}\n"))
        .collect();
    std::fs::write(&env_file, &env_text)
        .with_context(|| format!("writing {}", env_file.display()))?;
    let base = format!("http://{}", config.bind);
    println!(
        "encore demo: {count} recordings with stems, 11 parties, {count} works loaded into {}",
        config.data_dir.display()
    );
    println!();
    println!(
        "API keys (also in {}; `source` it in another shell):",
        env_file.display()
    );
    for (var, who, secret) in &keys {
        println!("  {var:<8} {who:<26} {secret}");
    }
    println!();
    println!("Try:");
    println!("  source {}", env_file.display());
    println!("  curl -s {base}/v1/recordings?q=night -H \"Authorization: Bearer $ENCORE_FAN_KEY\"");
    println!(
        "  curl -s {base}/v1/recordings/by-isrc/QZDA72600001 -H \"Authorization: Bearer $ENCORE_PARTNER_KEY\""
    );
    println!("  open {base}/docs");
    if args.no_serve {
        return Ok(());
    }
    println!();
    crate::serve::serve(config, store, blobs, |addr| {
        println!("serving on http://{addr} (Ctrl-C stops)")
    })
    .await
}
