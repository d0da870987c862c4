//! `encore import`: CSV or JSON Lines catalogs, batched, idempotent, with a progress bar.
//!
//! One row per line (JSON Lines) or per record (CSV, with a header). Every row has a `type`:
//! `party` (keyed by `ref`), `work` (keyed by `ref`) or `recording` (keyed by `isrc`). Rows
//! refer to parties and works by their `ref`, so a file can be loaded into any catalog. A row
//! may refer only to items already in the catalog or earlier in the file.
//!
//! CSV columns: type, ref, name, kind, ipi, isni, iswc, isrc, title, duration_ms, artists,
//! writers, works, splits. Lists are `;`-separated refs; splits are `ref:ppm;ref:ppm`.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use encore_core::{Ipi, Isni, Isrc, Iswc, PartyKind, Share, Splits};
use encore_store::{ImportBatch, ImportParty, ImportRecording, ImportRowError, ImportWork, Store};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;

use crate::config::Config;

/// Rows of each kind written per transaction.
pub const BATCH_ROWS_DEFAULT: u64 = 1_000;
/// Batches parsed ahead of the writer.
const BATCHES_IN_FLIGHT_MAX: usize = 4;
/// Rejected rows printed to the terminal; all go to `--errors`.
const ERRORS_SHOWN_MAX: usize = 50;
/// Longest line accepted, bytes.
const LINE_BYTES_MAX: usize = 1024 * 1024;

/// Arguments of `encore import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The catalog file (.csv, .jsonl or .ndjson; `-` reads JSON Lines from standard input).
    pub file: PathBuf,
    /// The format, when the file name does not tell.
    #[arg(long, value_parser = ["csv", "jsonl"])]
    pub format: Option<String>,
    /// Rows of each kind per transaction.
    #[arg(long, default_value_t = BATCH_ROWS_DEFAULT, value_parser = clap::value_parser!(u64).range(1..=2000))]
    pub batch_rows: u64,
    /// Write every rejected row (line, field, reason) to this CSV file.
    #[arg(long)]
    pub errors: Option<PathBuf>,
}

/// One row as written in either format.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRow {
    #[serde(rename = "type")]
    kind_of_row: String,
    #[serde(rename = "ref")]
    ext_ref: Option<String>,
    name: Option<String>,
    kind: Option<String>,
    ipi: Option<String>,
    isni: Option<String>,
    iswc: Option<String>,
    isrc: Option<String>,
    title: Option<String>,
    duration_ms: Option<i64>,
    #[serde(default)]
    artists: Vec<String>,
    #[serde(default)]
    writers: Vec<String>,
    #[serde(default)]
    works: Vec<String>,
    splits: Option<Vec<RawSplit>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSplit {
    party: String,
    share_ppm: u64,
}

/// A CSV record: every cell is text.
#[derive(Debug, Deserialize)]
struct CsvRow {
    #[serde(rename = "type")]
    kind_of_row: String,
    #[serde(rename = "ref", default)]
    ext_ref: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    ipi: String,
    #[serde(default)]
    isni: String,
    #[serde(default)]
    iswc: String,
    #[serde(default)]
    isrc: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    duration_ms: String,
    #[serde(default)]
    artists: String,
    #[serde(default)]
    writers: String,
    #[serde(default)]
    works: String,
    #[serde(default)]
    splits: String,
}

fn cell(s: String) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        None
    } else {
        Some(t.to_owned())
    }
}

fn list(s: &str) -> Vec<String> {
    s.split(';')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

impl CsvRow {
    fn into_raw(self) -> Result<RawRow, (String, String)> {
        let duration_ms = match cell(self.duration_ms) {
            None => None,
            Some(d) => Some(d.parse().map_err(|_| {
                (
                    "duration_ms".to_owned(),
                    format!("'{d}' is not a whole number"),
                )
            })?),
        };
        let splits = match cell(self.splits) {
            None => None,
            Some(s) => Some(
                list(&s)
                    .iter()
                    .enumerate()
                    .map(|(i, part)| {
                        let (party, ppm) = part.rsplit_once(':').ok_or_else(|| {
                            (
                                format!("splits[{i}]"),
                                format!("'{part}' is not ref:share_ppm"),
                            )
                        })?;
                        let share_ppm = ppm.trim().parse().map_err(|_| {
                            (
                                format!("splits[{i}].share_ppm"),
                                format!("'{ppm}' is not a whole number of parts per million"),
                            )
                        })?;
                        Ok::<_, (String, String)>(RawSplit {
                            party: party.trim().to_owned(),
                            share_ppm,
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        Ok(RawRow {
            kind_of_row: self.kind_of_row,
            ext_ref: cell(self.ext_ref),
            name: cell(self.name),
            kind: cell(self.kind),
            ipi: cell(self.ipi),
            isni: cell(self.isni),
            iswc: cell(self.iswc),
            isrc: cell(self.isrc),
            title: cell(self.title),
            duration_ms,
            artists: list(&self.artists),
            writers: list(&self.writers),
            works: list(&self.works),
            splits,
        })
    }
}

/// A validated row.
enum Row {
    Party(ImportParty),
    Work(ImportWork),
    Recording(ImportRecording),
}

fn err(line: u64, field: &str, message: impl Into<String>) -> ImportRowError {
    ImportRowError {
        line,
        field: field.to_owned(),
        message: message.into(),
    }
}

fn required(line: u64, field: &str, v: Option<String>) -> Result<String, ImportRowError> {
    v.filter(|s| !s.trim().is_empty())
        .ok_or_else(|| err(line, field, "is required for this row type"))
}

fn parse_opt<T, E: std::fmt::Display>(
    line: u64,
    field: &str,
    v: Option<String>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<T>, ImportRowError> {
    v.map(|s| parse(&s).map_err(|e| err(line, field, e.to_string())))
        .transpose()
}

fn parse_splits(
    line: u64,
    raw: Option<Vec<RawSplit>>,
) -> Result<Option<Splits<String>>, ImportRowError> {
    let Some(raw) = raw else { return Ok(None) };
    let mut entries = Vec::with_capacity(raw.len());
    for (i, s) in raw.into_iter().enumerate() {
        let share = u32::try_from(s.share_ppm)
            .map_err(|_| "must be at most 1000000".to_owned())
            .and_then(|p| Share::from_ppm(p).map_err(|e| e.to_string()))
            .map_err(|m| err(line, &format!("splits[{i}].share_ppm"), m))?;
        entries.push((s.party, share));
    }
    Splits::new(entries).map(Some).map_err(|e| {
        let field = e
            .index()
            .map(|i| format!("splits[{i}]"))
            .unwrap_or_else(|| "splits".to_owned());
        err(line, &field, e.to_string())
    })
}

fn validate(line: u64, raw: RawRow) -> Result<Row, ImportRowError> {
    match raw.kind_of_row.trim() {
        "party" => Ok(Row::Party(ImportParty {
            line,
            ext_ref: required(line, "ref", raw.ext_ref)?,
            name: required(line, "name", raw.name)?,
            kind: PartyKind::parse(&required(line, "kind", raw.kind)?)
                .map_err(|e| err(line, "kind", e.message))?,
            ipi: parse_opt(line, "ipi", raw.ipi, Ipi::parse)?,
            isni: parse_opt(line, "isni", raw.isni, Isni::parse)?,
        })),
        "work" => Ok(Row::Work(ImportWork {
            line,
            ext_ref: required(line, "ref", raw.ext_ref)?,
            iswc: parse_opt(line, "iswc", raw.iswc, Iswc::parse)?,
            title: required(line, "title", raw.title)?,
            writers: raw.writers,
            splits: parse_splits(line, raw.splits)?,
        })),
        "recording" => {
            if raw.duration_ms.is_some_and(|d| d <= 0) {
                return Err(err(line, "duration_ms", "must be positive"));
            }
            Ok(Row::Recording(ImportRecording {
                line,
                ext_ref: raw.ext_ref,
                isrc: Isrc::parse(&required(line, "isrc", raw.isrc)?)
                    .map_err(|e| err(line, "isrc", e.message))?,
                title: required(line, "title", raw.title)?,
                duration_ms: raw.duration_ms,
                artists: raw.artists,
                works: raw.works,
                splits: parse_splits(line, raw.splits)?,
            }))
        }
        other => Err(err(
            line,
            "type",
            format!("'{other}' is not a row type: use party, work or recording"),
        )),
    }
}

/// Groups rows into batches, flushing early when a key repeats so a batch never touches the
/// same item twice.
struct Batcher {
    batch: ImportBatch,
    keys: HashSet<String>,
    rows_max: usize,
}

impl Batcher {
    fn push(&mut self, row: Row) -> Option<ImportBatch> {
        let key = match &row {
            Row::Party(p) => format!("p\u{1}{}", p.ext_ref),
            Row::Work(w) => format!("w\u{1}{}", w.ext_ref),
            Row::Recording(r) => format!("r\u{1}{}", r.isrc),
        };
        let mut out = None;
        if self.keys.contains(&key) {
            out = self.take();
        }
        self.keys.insert(key);
        match row {
            Row::Party(p) => self.batch.parties.push(p),
            Row::Work(w) => self.batch.works.push(w),
            Row::Recording(r) => self.batch.recordings.push(r),
        }
        let full = self
            .batch
            .parties
            .len()
            .max(self.batch.works.len())
            .max(self.batch.recordings.len())
            >= self.rows_max;
        if full && out.is_none() {
            self.take()
        } else {
            out
        }
    }

    fn take(&mut self) -> Option<ImportBatch> {
        self.keys.clear();
        if self.batch.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.batch))
        }
    }
}

enum Msg {
    Batch(ImportBatch, u64),
    Rejected(ImportRowError),
}

/// Reads and validates the file on a blocking thread, sending batches to the writer.
fn read_rows(
    args: &ImportArgs,
    csv: bool,
    tx: tokio::sync::mpsc::Sender<Msg>,
    progress: ProgressBar,
) -> anyhow::Result<u64> {
    let reader: Box<dyn Read + Send> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        let file = std::fs::File::open(&args.file)
            .with_context(|| format!("opening {}", args.file.display()))?;
        Box::new(progress.wrap_read(file))
    };
    let mut batcher = Batcher {
        batch: ImportBatch::default(),
        keys: HashSet::new(),
        rows_max: args.batch_rows as usize,
    };
    let mut rows = 0u64;
    let send = |msg: Msg| {
        tx.blocking_send(msg)
            .map_err(|_| anyhow::anyhow!("the database writer stopped"))
    };
    let mut handle = |line: u64, parsed: Result<RawRow, ImportRowError>| -> anyhow::Result<()> {
        match parsed.and_then(|raw| validate(line, raw)) {
            Ok(row) => {
                if let Some(batch) = batcher.push(row) {
                    send(Msg::Batch(batch, line))?;
                }
            }
            Err(e) => send(Msg::Rejected(e))?,
        }
        Ok(())
    };
    if csv {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(reader);
        for record in reader.deserialize::<CsvRow>() {
            rows += 1;
            let line = rows + 1; // the header is line 1
            let parsed = match record {
                Ok(r) => r
                    .into_raw()
                    .map_err(|(field, message)| err(line, &field, message)),
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(line);
                    Err(err(line, "", format!("the CSV record does not parse: {e}")))
                }
            };
            handle(line, parsed)?;
        }
    } else {
        let mut reader = BufReader::with_capacity(1 << 20, reader);
        let mut buf = String::new();
        let mut line = 0u64;
        loop {
            buf.clear();
            let n = reader.read_line(&mut buf).context("reading the file")?;
            if n == 0 {
                break;
            }
            line += 1;
            let text = buf.trim();
            if text.is_empty() {
                continue;
            }
            rows += 1;
            let parsed = if n > LINE_BYTES_MAX {
                Err(err(
                    line,
                    "",
                    format!("the line is longer than {LINE_BYTES_MAX} bytes"),
                ))
            } else {
                parse_json_row(text).map_err(|(path, msg)| err(line, &path, msg))
            };
            handle(line, parsed)?;
        }
    }
    if let Some(batch) = batcher.take() {
        send(Msg::Batch(batch, rows))?;
    }
    Ok(rows)
}

/// Deserialises a row. Good rows take the fast path; a bad one is parsed again with path
/// tracking so the error names the field at fault.
fn parse_json_row(text: &str) -> Result<RawRow, (String, String)> {
    if let Ok(row) = serde_json::from_str(text) {
        return Ok(row);
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, RawRow>(de) {
        Ok(row) => Ok(row),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let field = if inner.is_syntax() || inner.is_eof() {
                String::new()
            } else {
                encore_api::extract::field_path(&path, &inner.to_string())
            };
            Err((field, format!("not a valid row: {inner}")))
        }
    }
}

/// Runs the import and prints a summary. Exit code 1 when any row was rejected.
pub async fn run(config: &Config, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let csv = match args.format.as_deref() {
        Some("csv") => true,
        Some(_) => false,
        None => {
            let ext = args
                .file
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default()
                .to_lowercase();
            match ext.as_str() {
                "csv" => true,
                "jsonl" | "ndjson" | "json" => false,
                _ if args.file.as_os_str() == "-" => false,
                _ => anyhow::bail!(
                    "cannot tell the format of {}: name it .csv or .jsonl, or pass --format",
                    args.file.display()
                ),
            }
        }
    };
    let total_bytes = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    let store = Store::open(config.database_url.expose())
        .await
        .with_context(|| format!("opening the database {}", config.database_url))?;
    let progress = ProgressBar::new(total_bytes);
    progress.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let plain_progress = !std::io::IsTerminal::is_terminal(&std::io::stderr());

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Msg>(BATCHES_IN_FLIGHT_MAX);
    let reader_progress = progress.clone();
    let reader = tokio::task::spawn_blocking(move || {
        let result = read_rows(&args, csv, tx, reader_progress);
        (args, result)
    });

    let mut importer = store
        .importer()
        .await
        .context("starting the import session")?;
    let started = std::time::Instant::now();
    let (mut created, mut updated) = (0u64, 0u64);
    let mut rejected: Vec<ImportRowError> = Vec::new();
    let mut last_report = 0u64;
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Rejected(e) => rejected.push(e),
            Msg::Batch(batch, _line) => {
                let outcome = importer
                    .import(&batch)
                    .await
                    .context("writing a batch to the database")?;
                created += outcome.created;
                updated += outcome.updated;
                rejected.extend(outcome.errors);
                progress.set_message(format!(
                    "{} written, {} rejected",
                    created + updated,
                    rejected.len()
                ));
                if plain_progress && total_bytes > 0 {
                    let pct = progress.position() * 100 / total_bytes;
                    if pct >= last_report + 10 {
                        last_report = pct - pct % 10;
                        eprintln!(
                            "import: {pct}% ({} rows written, {} rejected)",
                            created + updated,
                            rejected.len()
                        );
                    }
                }
            }
        }
    }
    importer
        .finish()
        .await
        .context("closing the import session")?;
    let (args, read) = reader.await.context("the file reader panicked")?;
    let rows = read?;
    progress.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    rejected.sort_by_key(|e| e.line);
    println!(
        "imported {} rows in {secs:.1} s: {created} created, {updated} updated, {} rejected",
        rows,
        rejected.len()
    );
    for e in rejected.iter().take(ERRORS_SHOWN_MAX) {
        let field = if e.field.is_empty() {
            String::new()
        } else {
            format!(" {}:", e.field)
        };
        eprintln!("line {}:{field} {}", e.line, e.message);
    }
    if rejected.len() > ERRORS_SHOWN_MAX {
        eprintln!(
            "… and {} more rejected rows{}",
            rejected.len() - ERRORS_SHOWN_MAX,
            if args.errors.is_some() {
                ""
            } else {
                "; pass --errors FILE to keep them all"
            }
        );
    }
    if let Some(path) = &args.errors {
        let mut w =
            csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
        w.write_record(["line", "field", "reason"])?;
        for e in &rejected {
            w.write_record([e.line.to_string(), e.field.clone(), e.message.clone()])?;
        }
        w.flush()?;
    }
    store.close().await;
    Ok(if rejected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
