//! Bulk import of catalog rows, batched and idempotent.
//!
//! Parties and works are keyed by the submitter's `ref`, recordings by ISRC: importing the same
//! file twice updates rows in place and creates nothing new. A batch is one transaction; when
//! the database refuses it (a clash on a unique field, say), the batch is retried row by row so
//! every good row is committed and every bad one is reported with its line.

use encore_core::{Ipi, Isni, Isrc, Iswc, PartyKind, Splits};

use crate::{Store, StoreError};

/// A party row. References to it use `ext_ref`.
#[derive(Debug, Clone)]
pub struct ImportParty {
    /// Line in the source file.
    pub line: u64,
    /// The submitter's id for the party.
    pub ext_ref: String,
    /// Name.
    pub name: String,
    /// Person or organisation.
    pub kind: PartyKind,
    /// IPI name number.
    pub ipi: Option<Ipi>,
    /// ISNI.
    pub isni: Option<Isni>,
}

/// A work row; writers and splits name parties by ref.
#[derive(Debug, Clone)]
pub struct ImportWork {
    /// Line in the source file.
    pub line: u64,
    /// The submitter's id for the work.
    pub ext_ref: String,
    /// ISWC.
    pub iswc: Option<Iswc>,
    /// Title.
    pub title: String,
    /// Writer party refs.
    pub writers: Vec<String>,
    /// Publishing splits by party ref.
    pub splits: Option<Splits<String>>,
}

/// A recording row; artists and splits name parties by ref, works by work ref.
#[derive(Debug, Clone)]
pub struct ImportRecording {
    /// Line in the source file.
    pub line: u64,
    /// The submitter's id for the recording.
    pub ext_ref: Option<String>,
    /// ISRC: the recording's key.
    pub isrc: Isrc,
    /// Title.
    pub title: String,
    /// Declared duration in ms.
    pub duration_ms: Option<i64>,
    /// Main artist party refs.
    pub artists: Vec<String>,
    /// Linked work refs.
    pub works: Vec<String>,
    /// Master splits by party ref.
    pub splits: Option<Splits<String>>,
}

/// Rows to write together.
#[derive(Debug, Clone, Default)]
pub struct ImportBatch {
    /// Parties.
    pub parties: Vec<ImportParty>,
    /// Works.
    pub works: Vec<ImportWork>,
    /// Recordings.
    pub recordings: Vec<ImportRecording>,
}

impl ImportBatch {
    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.parties.len() + self.works.len() + self.recordings.len()
    }

    /// Whether the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn singles(&self) -> Vec<ImportBatch> {
        let mut out = Vec::with_capacity(self.len());
        out.extend(self.parties.iter().map(|p| ImportBatch {
            parties: vec![p.clone()],
            ..Default::default()
        }));
        out.extend(self.works.iter().map(|w| ImportBatch {
            works: vec![w.clone()],
            ..Default::default()
        }));
        out.extend(self.recordings.iter().map(|r| ImportBatch {
            recordings: vec![r.clone()],
            ..Default::default()
        }));
        out
    }

    fn only_line(&self) -> u64 {
        self.parties
            .first()
            .map(|p| p.line)
            .or_else(|| self.works.first().map(|w| w.line))
            .or_else(|| self.recordings.first().map(|r| r.line))
            .unwrap_or(0)
    }
}

/// A rejected row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRowError {
    /// Line in the source file.
    pub line: u64,
    /// The field at fault.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// What a batch did.
#[derive(Debug, Clone, Default)]
pub struct ImportOutcome {
    /// Rows that created something new.
    pub created: u64,
    /// Rows that updated an existing item.
    pub updated: u64,
    /// Rows refused, with reasons.
    pub errors: Vec<ImportRowError>,
}

impl ImportOutcome {
    fn absorb(&mut self, other: ImportOutcome) {
        self.created += other.created;
        self.updated += other.updated;
        self.errors.extend(other.errors);
    }
}

/// An import session: a dedicated connection that writes batches.
pub struct Importer {
    conn: Conn,
}

enum Conn {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Store {
    /// Starts an import session on a connection of its own.
    pub async fn importer(&self) -> Result<Importer, StoreError> {
        let conn = match &self.pool {
            crate::Pool::Sqlite(p) => {
                Conn::Sqlite(crate::backend::sqlite::import_connection(p).await?)
            }
            crate::Pool::Postgres(p) => {
                Conn::Postgres(crate::backend::postgres::import_connection(p).await?)
            }
        };
        Ok(Importer { conn })
    }

    /// Writes one batch in a session of its own (for small, one-off imports).
    pub async fn import(&self, batch: &ImportBatch) -> Result<ImportOutcome, StoreError> {
        let out = self.importer().await?.import(batch).await;
        self.wrote();
        out
    }
}

impl Importer {
    async fn write(&mut self, batch: &ImportBatch) -> Result<ImportOutcome, StoreError> {
        match &mut self.conn {
            Conn::Sqlite(c) => crate::backend::sqlite::import_batch(c, batch).await,
            Conn::Postgres(c) => crate::backend::postgres::import_batch(c, batch).await,
        }
    }

    /// Writes a batch; rows the database refuses are reported, the rest committed.
    /// Rows within one batch must have distinct keys (the importer de-duplicates).
    pub async fn import(&mut self, batch: &ImportBatch) -> Result<ImportOutcome, StoreError> {
        match self.write(batch).await {
            Ok(outcome) => Ok(outcome),
            Err(StoreError::Backend(sqlx::Error::Database(db))) if batch.len() == 1 => {
                let text = db.message().to_lowercase();
                let field = ["isrc", "iswc", "ipi", "isni", "ext_ref"]
                    .into_iter()
                    .find(|f| text.contains(f) || db.constraint().is_some_and(|c| c.contains(f)));
                let (field, message) = match (db.is_unique_violation(), field) {
                    (true, Some(f)) => {
                        let f = if f == "ext_ref" { "ref" } else { f };
                        (
                            f.to_owned(),
                            format!("another catalog item already has this {f}"),
                        )
                    }
                    _ => (
                        String::new(),
                        format!("the database refused the row: {}", db.message()),
                    ),
                };
                Ok(ImportOutcome {
                    errors: vec![ImportRowError {
                        line: batch.only_line(),
                        field,
                        message,
                    }],
                    ..Default::default()
                })
            }
            Err(StoreError::Backend(sqlx::Error::Database(_))) => {
                let mut total = ImportOutcome::default();
                for single in batch.singles() {
                    total.absorb(Box::pin(self.import(&single)).await?);
                }
                Ok(total)
            }
            Err(other) => Err(other),
        }
    }

    /// Ends the session, closing its connection.
    pub async fn finish(self) -> Result<(), StoreError> {
        match self.conn {
            Conn::Sqlite(c) => sqlx::Connection::close(c).await?,
            Conn::Postgres(c) => sqlx::Connection::close(c).await?,
        }
        Ok(())
    }
}
