//! Seeds agreements and participation over an imported catalog, for the HTTP rights benchmark
//! (`scripts/bench-rights-http.sh`).
//!
//! Every party gets one agreement licensing every use catalogue-wide (a few exclude a country,
//! a few are revoked), proposed and accepted through the store, with the audit log, exactly as
//! the HTTP handlers do it; every person sets participation (mostly allow, some approve, some
//! deny). With the catalog of `scripts/gen-catalog.py` that is 100,000 parties and 100,000
//! agreements for a million recordings.
//!
//!     cargo run --release -p encore --example seed_rights -- DATABASE_URL

use std::collections::BTreeSet;
use std::time::Instant;

use anyhow::Context;
use encore_core::rights::{
    Agreement, AgreementStatus, Choice, OnRevocation, Participation, Scope, Territories,
};
use encore_core::{PartyKind, Territory, UseType};
use encore_store::{ListQuery, Store};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::args()
        .nth(1)
        .context("usage: seed_rights DATABASE_URL (sqlite path or postgres://…)")?;
    let store = Store::open(&url).await?;
    let started = Instant::now();

    let mut parties = Vec::new();
    let mut query = ListQuery {
        q: None,
        cursor: None,
        limit: Some(encore_store::limits::PAGE_SIZE_MAX),
    };
    loop {
        let page = store.parties(&query).await?;
        parties.extend(page.items.into_iter().map(|p| (p.id, p.fields.kind)));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    println!(
        "{} parties listed in {:.1} s",
        parties.len(),
        started.elapsed().as_secs_f64()
    );

    let all_uses: BTreeSet<UseType> = UseType::ALL.into_iter().collect();
    let fr = Territory::parse("FR")?;
    for (i, (party, kind)) in parties.iter().enumerate() {
        if i % 10_000 == 0 {
            println!(
                "seeding: {i}/{} parties ({:.1} s)",
                parties.len(),
                started.elapsed().as_secs_f64()
            );
        }
        let excluding = if i % 50 == 7 {
            [fr].into()
        } else {
            BTreeSet::new()
        };
        let terms = Agreement {
            id: String::new(),
            licensor: party.clone(),
            scope: Scope::AllWhereLicensorHoldsShares,
            uses: all_uses.clone(),
            territories: Territories::World { excluding },
            starts_at_ms: 1_577_836_800_000, // 2020-01-01
            ends_at_ms: None,
            status: AgreementStatus::Proposed,
            requires_approval: i % 40 == 3,
            rates: Default::default(),
            on_revocation: OnRevocation::Keep,
        };
        let created = store.create_agreement(&terms, None).await?;
        store.accept_agreement(&created.agreement.id, None).await?;
        if i % 100 == 11 {
            store.revoke_agreement(&created.agreement.id, None).await?;
        }
        if *kind == PartyKind::Person {
            let choice = match i % 200 {
                0..=2 => Choice::Deny,
                3..=5 => Choice::Approve,
                _ => Choice::Allow,
            };
            let participation = UseType::ALL
                .into_iter()
                .fold(Participation::new(), |p, u| p.with(u, choice));
            store.set_participation(party, &participation, None).await?;
        }
    }
    println!(
        "seeded {} agreements in {:.1} s",
        parties.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
