//! Rights records: agreements (owners' consent) and participation (people's consent).
//!
//! The engine's types (`encore_core::rights`) carry no serialisation, so the terms of an
//! agreement and a person's participation are written here as small JSON documents, built and
//! read by hand. The SQL is in `backend_rights.rs`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use encore_core::rights::{
    Agreement, AgreementStatus, ArtistRule, Choice, OnRevocation, Participation, Scope,
    Territories, UseRates, UseRule, UseTable,
};
use encore_core::{Currency, Money, Territory, UseType};
use serde_json::{Map, Value, json};

use crate::{Store, StoreError};

/// Most licensors one `agreements_for_licensors` call reads in one statement.
const LICENSORS_PER_QUERY: usize = 500;

/// A stored agreement: the engine's value plus who made it and when.
#[derive(Debug, Clone)]
pub struct AgreementRecord {
    /// The agreement, with its id and status.
    pub agreement: Agreement,
    /// The key that proposed it.
    pub created_by: Option<String>,
    /// Proposal time, Unix ms.
    pub created_at_ms: i64,
    /// Last change (acceptance, revocation), Unix ms.
    pub updated_at_ms: i64,
}

/// A stored participation document.
#[derive(Debug, Clone)]
pub struct ParticipationRecord {
    /// The person party.
    pub party_id: String,
    /// Their choices.
    pub participation: Participation,
    /// The key that last changed it.
    pub updated_by: Option<String>,
    /// Last change, Unix ms.
    pub updated_at_ms: i64,
}

/// An agreement row as the backend reads it.
pub(crate) struct AgreementRow {
    pub id: String,
    pub licensor_id: String,
    pub status: String,
    pub revoked_at_ms: Option<i64>,
    pub terms: String,
    pub created_by: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// A participation row as the backend reads it.
pub(crate) struct ParticipationRow {
    pub party_id: String,
    pub document: String,
    pub updated_by: Option<String>,
    pub updated_at_ms: i64,
}

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(sqlx::Error::Decode(
        format!("stored {what} does not parse ({detail}); the database was edited by hand").into(),
    ))
}

fn money_json(m: Money) -> Value {
    json!({"micros": m.amount_micros, "currency": m.currency.as_str()})
}

/// The terms of an agreement (everything but id, licensor and status) as JSON text.
pub(crate) fn terms_to_text(a: &Agreement) -> String {
    let scope = match &a.scope {
        Scope::AllWhereLicensorHoldsShares => json!({"kind": "all"}),
        Scope::Recordings(items) => json!({"kind": "recordings", "items": items}),
        Scope::Works(items) => json!({"kind": "works", "items": items}),
    };
    let territories = match &a.territories {
        Territories::List(list) => {
            json!({"include": list.iter().map(Territory::as_str).collect::<Vec<_>>()})
        }
        Territories::World { excluding } => {
            json!({"world": true, "exclude": excluding.iter().map(Territory::as_str).collect::<Vec<_>>()})
        }
    };
    let rates: Map<String, Value> = a
        .rates
        .iter()
        .map(|(u, r)| {
            (
                u.as_str().to_owned(),
                json!({"creation_fee": money_json(r.creation_fee), "per_stream": money_json(r.per_stream)}),
            )
        })
        .collect();
    json!({
        "scope": scope,
        "uses": a.uses.iter().map(UseType::as_str).collect::<Vec<_>>(),
        "territories": territories,
        "starts_at_ms": a.starts_at_ms,
        "ends_at_ms": a.ends_at_ms,
        "requires_approval": a.requires_approval,
        "on_revocation": a.on_revocation.as_str(),
        "rates": rates,
    })
    .to_string()
}

fn strings(v: &Value) -> Result<Vec<&str>, String> {
    v.as_array()
        .ok_or("expected a list")?
        .iter()
        .map(|s| s.as_str().ok_or_else(|| "expected text".to_owned()))
        .collect()
}

fn territory_set(v: &Value) -> Result<BTreeSet<Territory>, String> {
    strings(v)?
        .into_iter()
        .map(|t| Territory::parse(t).map_err(|e| e.to_string()))
        .collect()
}

fn money_from(v: &Value) -> Result<Money, String> {
    let micros = v["micros"].as_i64().ok_or("money without micros")?;
    let currency = v["currency"].as_str().ok_or("money without currency")?;
    let currency = Currency::parse(currency).map_err(|e| e.to_string())?;
    Ok(Money::new(micros, currency))
}

fn agreement_from_parts(
    id: String,
    licensor: String,
    status: AgreementStatus,
    text: &str,
) -> Result<Agreement, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let scope = match v["scope"]["kind"].as_str() {
        Some("all") => Scope::AllWhereLicensorHoldsShares,
        Some("recordings") => Scope::Recordings(
            strings(&v["scope"]["items"])?
                .into_iter()
                .map(str::to_owned)
                .collect(),
        ),
        Some("works") => Scope::Works(
            strings(&v["scope"]["items"])?
                .into_iter()
                .map(str::to_owned)
                .collect(),
        ),
        other => return Err(format!("unknown scope {other:?}")),
    };
    let uses = strings(&v["uses"])?
        .into_iter()
        .map(|u| UseType::parse(u).map_err(|e| e.to_string()))
        .collect::<Result<BTreeSet<_>, _>>()?;
    let t = &v["territories"];
    let territories = if t["world"].as_bool() == Some(true) {
        Territories::World {
            excluding: territory_set(&t["exclude"])?,
        }
    } else {
        Territories::List(territory_set(&t["include"])?)
    };
    let mut rates = BTreeMap::new();
    if let Some(map) = v["rates"].as_object() {
        for (u, r) in map {
            let use_type = UseType::parse(u).map_err(|e| e.to_string())?;
            rates.insert(
                use_type,
                UseRates {
                    creation_fee: money_from(&r["creation_fee"])?,
                    per_stream: money_from(&r["per_stream"])?,
                },
            );
        }
    }
    let on_revocation = v["on_revocation"].as_str().ok_or("no on_revocation")?;
    Ok(Agreement {
        id,
        licensor,
        scope,
        uses,
        territories,
        starts_at_ms: v["starts_at_ms"].as_i64().ok_or("no starts_at_ms")?,
        ends_at_ms: v["ends_at_ms"].as_i64(),
        status,
        requires_approval: v["requires_approval"].as_bool().unwrap_or(false),
        rates,
        on_revocation: OnRevocation::parse(on_revocation).map_err(|e| e.to_string())?,
    })
}

impl AgreementRow {
    pub(crate) fn into_record(self) -> Result<AgreementRecord, StoreError> {
        let status = match (self.status.as_str(), self.revoked_at_ms) {
            ("proposed", _) => AgreementStatus::Proposed,
            ("accepted", _) => AgreementStatus::Accepted,
            ("revoked", Some(at_ms)) => AgreementStatus::Revoked { at_ms },
            (other, _) => return Err(corrupt("agreement status", other)),
        };
        let agreement = agreement_from_parts(self.id, self.licensor_id, status, &self.terms)
            .map_err(|e| corrupt("agreement terms", e))?;
        Ok(AgreementRecord {
            agreement,
            created_by: self.created_by,
            created_at_ms: self.created_at_ms,
            updated_at_ms: self.updated_at_ms,
        })
    }
}

/// A participation as JSON text: per use, a default and per-item overrides.
pub(crate) fn participation_to_text(p: &Participation) -> String {
    let choices = |m: &BTreeMap<String, Choice>| -> Map<String, Value> {
        m.iter()
            .map(|(k, c)| (k.clone(), Value::from(c.as_str())))
            .collect()
    };
    let per_use: Map<String, Value> = UseType::ALL
        .iter()
        .map(|&u| {
            let up = p.for_use(u);
            (
                u.as_str().to_owned(),
                json!({
                    "default": up.default.map(|c| c.as_str()),
                    "recordings": choices(&up.recordings),
                    "works": choices(&up.works),
                }),
            )
        })
        .collect();
    Value::Object(per_use).to_string()
}

fn participation_from_text(text: &str) -> Result<Participation, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let map = v.as_object().ok_or("expected an object")?;
    let mut p = Participation::new();
    let choice = |v: &Value| -> Result<Choice, String> {
        Choice::parse(v.as_str().ok_or("expected text")?).map_err(|e| e.to_string())
    };
    for (u, entry) in map {
        let use_type = UseType::parse(u).map_err(|e| e.to_string())?;
        let up = p.for_use_mut(use_type);
        if !entry["default"].is_null() {
            up.default = Some(choice(&entry["default"])?);
        }
        for (k, c) in entry["recordings"].as_object().into_iter().flatten() {
            up.recordings.insert(k.clone(), choice(c)?);
        }
        for (k, c) in entry["works"].as_object().into_iter().flatten() {
            up.works.insert(k.clone(), choice(c)?);
        }
    }
    Ok(p)
}

impl ParticipationRow {
    pub(crate) fn into_record(self) -> Result<ParticipationRecord, StoreError> {
        let participation =
            participation_from_text(&self.document).map_err(|e| corrupt("participation", e))?;
        Ok(ParticipationRecord {
            party_id: self.party_id,
            participation,
            updated_by: self.updated_by,
            updated_at_ms: self.updated_at_ms,
        })
    }
}

/// The use table as JSON text: per use type, who must agree.
pub(crate) fn use_table_to_text(t: &UseTable) -> String {
    let mut rows = Map::new();
    for (u, r) in t.rows() {
        let artists = match r.artists {
            ArtistRule::NotRequired => "none",
            ArtistRule::MainArtists => "main",
            ArtistRule::VoicedArtist => "voiced",
        };
        rows.insert(
            u.as_str().to_owned(),
            json!({"master_owners": r.master_owners, "publishing_owners": r.publishing_owners,
                   "artists": artists, "writers": r.writers, "min_inputs": r.min_inputs}),
        );
    }
    Value::Object(rows).to_string()
}

fn use_table_from_text(text: &str) -> Result<UseTable, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut error = None;
    let table = UseTable::from_fn(|u| {
        let row = &doc[u.as_str()];
        let flag = |k: &str| row[k].as_bool();
        let artists = match row["artists"].as_str() {
            Some("none") => Some(ArtistRule::NotRequired),
            Some("main") => Some(ArtistRule::MainArtists),
            Some("voiced") => Some(ArtistRule::VoicedArtist),
            _ => None,
        };
        let min_inputs = row["min_inputs"]
            .as_u64()
            .and_then(|n| u8::try_from(n).ok());
        match (
            flag("master_owners"),
            flag("publishing_owners"),
            artists,
            flag("writers"),
            min_inputs,
        ) {
            (
                Some(master_owners),
                Some(publishing_owners),
                Some(artists),
                Some(writers),
                Some(min_inputs),
            ) => UseRule {
                master_owners,
                publishing_owners,
                artists,
                writers,
                min_inputs,
            },
            _ => {
                error = Some(format!("row '{}' is incomplete", u.as_str()));
                UseRule::everyone(1)
            }
        }
    });
    match error {
        Some(e) => Err(e),
        None => Ok(table),
    }
}

/// Calls the function of the same name in the rights backend module that matches the pool.
macro_rules! dispatch_rights {
    ($self:expr, $f:ident ( $($arg:expr),* $(,)? )) => {
        match &$self.pool {
            $crate::Pool::Sqlite(p) => $crate::backend_rights::sqlite::$f(p, $($arg),*).await,
            $crate::Pool::Postgres(p) => $crate::backend_rights::postgres::$f(p, $($arg),*).await,
        }
    };
}

impl Store {
    /// Stores a proposal with the terms of `terms` (its id and status are ignored: the store
    /// assigns a new `agr_` id and the status `Proposed`). The licensor must be a party.
    pub async fn create_agreement(
        &self,
        terms: &Agreement,
        created_by: Option<&str>,
    ) -> Result<AgreementRecord, StoreError> {
        let id = crate::new_id("agr");
        let text = terms_to_text(terms);
        let out = dispatch_rights!(
            self,
            insert_agreement(&id, &terms.licensor, &text, created_by)
        );
        self.wrote();
        out?;
        self.agreement(&id)
            .await?
            .ok_or(StoreError::NotFound { what: "agreement" })
    }

    /// An agreement by id.
    pub async fn agreement(&self, id: &str) -> Result<Option<AgreementRecord>, StoreError> {
        if !crate::storable_id(id) {
            return Ok(None);
        }
        let row = dispatch_rights!(self, get_agreement(id))?;
        row.map(AgreementRow::into_record).transpose()
    }

    /// Accepts a proposal. Accepting an accepted agreement changes nothing; a revoked one
    /// cannot be accepted again.
    /// `by` is the acting key, recorded in the audit log with the change.
    pub async fn accept_agreement(
        &self,
        id: &str,
        by: Option<&str>,
    ) -> Result<AgreementRecord, StoreError> {
        let out = dispatch_rights!(
            self,
            set_agreement_status(id, "proposed", "accepted", None, by, "agreement.accept")
        );
        self.wrote();
        out?;
        let record = self
            .agreement(id)
            .await?
            .ok_or(StoreError::NotFound { what: "agreement" })?;
        match record.agreement.status {
            AgreementStatus::Accepted => Ok(record),
            _ => Err(StoreError::Invalid {
                field: "status".into(),
                message: "a revoked agreement cannot be accepted; propose a new one".into(),
            }),
        }
    }

    /// Revokes an accepted agreement from now on. Idempotent: revoking again keeps the first
    /// revocation time. A proposal that was never accepted cannot be revoked.
    /// `by` is the acting key, recorded in the audit log with the change.
    pub async fn revoke_agreement(
        &self,
        id: &str,
        by: Option<&str>,
    ) -> Result<AgreementRecord, StoreError> {
        let now = crate::now_ms();
        let out = dispatch_rights!(
            self,
            set_agreement_status(id, "accepted", "revoked", Some(now), by, "agreement.revoke")
        );
        self.wrote();
        out?;
        let record = self
            .agreement(id)
            .await?
            .ok_or(StoreError::NotFound { what: "agreement" })?;
        match record.agreement.status {
            AgreementStatus::Revoked { .. } => Ok(record),
            _ => Err(StoreError::Invalid {
                field: "status".into(),
                message: "only an accepted agreement can be revoked; this one is still proposed"
                    .into(),
            }),
        }
    }

    /// Every agreement (any status) whose licensor is one of `licensors`.
    pub async fn agreements_for_licensors(
        &self,
        licensors: &[String],
    ) -> Result<Vec<Agreement>, StoreError> {
        let mut out = Vec::new();
        for chunk in licensors.chunks(LICENSORS_PER_QUERY) {
            for row in dispatch_rights!(self, agreements_by_licensors(chunk))? {
                out.push(row.into_record()?.agreement);
            }
        }
        Ok(out)
    }

    /// Replaces a person's participation. The party must exist.
    pub async fn set_participation(
        &self,
        party: &str,
        participation: &Participation,
        by: Option<&str>,
    ) -> Result<ParticipationRecord, StoreError> {
        let text = participation_to_text(participation);
        let out = dispatch_rights!(self, upsert_participation(party, &text, by));
        self.wrote();
        out?;
        self.participation(party)
            .await?
            .ok_or(StoreError::NotFound {
                what: "participation",
            })
    }

    /// A person's participation, or `None` if they never set any.
    pub async fn participation(
        &self,
        party: &str,
    ) -> Result<Option<ParticipationRecord>, StoreError> {
        if !crate::storable_id(party) {
            return Ok(None);
        }
        let row = dispatch_rights!(self, get_participation(party))?;
        row.map(ParticipationRow::into_record).transpose()
    }

    /// Replaces the partner parties (organisations) that may change `party`'s participation;
    /// returns the stored set, sorted. Logged as `participation.delegate`.
    pub async fn set_participation_delegates(
        &self,
        party: &str,
        partners: &[String],
        by: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let out = dispatch_rights!(self, replace_delegates(party, partners, by));
        self.wrote();
        out?;
        self.participation_delegates(party).await
    }

    /// The partner parties `party` delegated participation changes to, sorted.
    pub async fn participation_delegates(&self, party: &str) -> Result<Vec<String>, StoreError> {
        dispatch_rights!(self, get_delegates(party))
    }

    /// The use table decisions follow: the stored one, or `UseTable::default()` when the
    /// operator never changed it. Read through the copies of `cache.rs`.
    pub async fn use_table(&self) -> Result<UseTable, StoreError> {
        Ok(UseTable::clone(&*self.rights().await?.use_table().await?))
    }

    /// The use table as stored, read from the database.
    pub(crate) async fn stored_use_table(&self) -> Result<UseTable, StoreError> {
        match dispatch_rights!(self, get_use_table())? {
            Some(text) => use_table_from_text(&text).map_err(|e| corrupt("use table", e)),
            None => Ok(UseTable::default()),
        }
    }

    /// Replaces the use table, logged as `use_table.set` with the table before and after.
    pub async fn set_use_table(
        &self,
        table: &UseTable,
        by: Option<&str>,
    ) -> Result<UseTable, StoreError> {
        let text = use_table_to_text(table);
        let default = use_table_to_text(&UseTable::default());
        let out = dispatch_rights!(self, replace_use_table(&text, &default, by));
        self.wrote();
        out?;
        self.use_table().await
    }

    /// The participation of each of `parties` that set any.
    pub async fn participations(
        &self,
        parties: &[String],
    ) -> Result<HashMap<String, Participation>, StoreError> {
        let mut out = HashMap::new();
        for chunk in parties.chunks(LICENSORS_PER_QUERY) {
            for row in dispatch_rights!(self, participation_by_parties(chunk))? {
                let record = row.into_record()?;
                out.insert(record.party_id, record.participation);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_use_table_round_trips() {
        let mut t = UseTable::default();
        t.set_rule(UseType::Cover, UseRule::everyone(2));
        let back = use_table_from_text(&use_table_to_text(&t)).expect("parses");
        assert_eq!(back, t);
        assert!(use_table_from_text("{}").is_err());
    }

    #[test]
    fn terms_and_participation_round_trip() {
        let usd = Currency::parse("USD").expect("usd");
        let a = Agreement {
            id: "agr_1".into(),
            licensor: "par_1".into(),
            scope: Scope::Recordings(["rec_1".to_owned()].into()),
            uses: [UseType::Remix, UseType::Train].into(),
            territories: Territories::World {
                excluding: [Territory::parse("FR").expect("fr")].into(),
            },
            starts_at_ms: 5,
            ends_at_ms: Some(10),
            status: AgreementStatus::Accepted,
            requires_approval: true,
            rates: [(
                UseType::Remix,
                UseRates {
                    creation_fee: Money::new(1_000, usd),
                    per_stream: Money::new(2, usd),
                },
            )]
            .into(),
            on_revocation: OnRevocation::Keep,
        };
        let back = agreement_from_parts(
            a.id.clone(),
            a.licensor.clone(),
            a.status,
            &terms_to_text(&a),
        )
        .expect("parses");
        assert_eq!(back, a);

        let mut p = Participation::new().with(UseType::Remix, Choice::Approve);
        p.for_use_mut(UseType::Cover)
            .works
            .insert("wrk_1".into(), Choice::Deny);
        let back = participation_from_text(&participation_to_text(&p)).expect("parses");
        assert_eq!(back, p);
    }
}
