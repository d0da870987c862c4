//! Catalog endpoints: parties, works, recordings, lookups and audio.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use encore_core::{Ipi, Isni, Isrc, Iswc, PartyKind, Role, Share, Splits};
use encore_store::{
    AudioAsset, AudioSlot, ListQuery, NewFingerprint, PartyInput, Recording, RecordingInput,
    WorkInput, limits as store_limits,
};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Code, Fields, Problem, take};
use crate::extract::{Json, Query, body_bytes};
use crate::wire::*;

/// Longest name or title accepted, in characters.
pub const TEXT_CHARS_MAX: usize = 500;
/// Longest `ref` accepted, in characters.
pub const REF_CHARS_MAX: usize = 128;
/// Longest stem name.
pub const STEM_NAME_CHARS_MAX: usize = 32;

fn text(fields: &mut Fields, field: &str, value: &str) -> Option<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        fields.fail(field, "must not be empty");
        None
    } else if trimmed.contains('\0') {
        fields.fail(field, "must not contain a NUL character");
        None
    } else if trimmed.chars().count() > TEXT_CHARS_MAX {
        fields.fail(
            field,
            format!("must be at most {TEXT_CHARS_MAX} characters"),
        );
        None
    } else {
        Some(trimmed.to_owned())
    }
}

fn ext_ref(fields: &mut Fields, value: Option<&str>) -> Option<Option<String>> {
    match value.map(str::trim) {
        None => Some(None),
        Some(v) if v.is_empty() || v.chars().count() > REF_CHARS_MAX || v.contains('\0') => {
            fields.fail(
                "ref",
                format!("must be 1 to {REF_CHARS_MAX} characters, none of them NUL"),
            );
            None
        }
        Some(v) => Some(Some(v.to_owned())),
    }
}

fn id_list(fields: &mut Fields, field: &str, ids: &[String]) -> Option<Vec<String>> {
    if ids.len() > store_limits::RELATIONS_PER_ITEM_MAX {
        fields.fail(
            field,
            format!(
                "must list at most {} ids",
                store_limits::RELATIONS_PER_ITEM_MAX
            ),
        );
        return None;
    }
    let mut seen = std::collections::HashSet::new();
    for (i, id) in ids.iter().enumerate() {
        if !seen.insert(id) {
            fields.fail(format!("{field}[{i}]"), "is listed twice");
            return None;
        }
    }
    Some(ids.to_vec())
}

fn splits(fields: &mut Fields, entries: Option<&[SplitEntry]>) -> Option<Option<Splits<String>>> {
    let Some(entries) = entries else {
        return Some(None);
    };
    if entries.len() > store_limits::RELATIONS_PER_ITEM_MAX {
        fields.fail(
            "splits",
            format!(
                "must list at most {} parties",
                store_limits::RELATIONS_PER_ITEM_MAX
            ),
        );
        return None;
    }
    let mut parsed = Vec::with_capacity(entries.len());
    let mut ok = true;
    for (i, e) in entries.iter().enumerate() {
        let share = u32::try_from(e.share_ppm).map_err(|_| "must be at most 1000000".to_owned());
        match share.and_then(|ppm| Share::from_ppm(ppm).map_err(|e| e.to_string())) {
            Ok(share) => parsed.push((e.party.clone(), share)),
            Err(message) => {
                fields.fail(format!("splits[{i}].share_ppm"), message);
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    match Splits::new(parsed) {
        Ok(s) => Some(Some(s)),
        Err(e) => {
            let field = match e {
                encore_core::SplitsError::DuplicateParty { index } => {
                    format!("splits[{index}].party")
                }
                encore_core::SplitsError::ZeroShare { index } => {
                    format!("splits[{index}].share_ppm")
                }
                _ => "splits".to_owned(),
            };
            fields.fail(field, e.to_string());
            None
        }
    }
}

fn optional<T, E: std::fmt::Display>(
    fields: &mut Fields,
    field: &str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Option<Option<T>> {
    match value {
        None => Some(None),
        Some(v) => fields.check(field, parse(v)).map(Some),
    }
}

fn list_query(params: ListParams) -> Result<ListQuery, ApiError> {
    let nul = |v: &Option<String>| v.as_ref().is_some_and(|v| v.contains('\0'));
    for (field, value) in [("q", &params.q), ("cursor", &params.cursor)] {
        if nul(value) {
            return Err(ApiError::field(field, "must not contain a NUL character"));
        }
    }
    if let Some(limit) = params.limit {
        if limit == 0 || limit > store_limits::PAGE_SIZE_MAX {
            return Err(ApiError::field(
                "limit",
                format!("must be 1 to {}", store_limits::PAGE_SIZE_MAX),
            ));
        }
    }
    if params
        .q
        .as_ref()
        .is_some_and(|q| q.chars().count() > TEXT_CHARS_MAX)
    {
        return Err(ApiError::field(
            "q",
            format!("must be at most {TEXT_CHARS_MAX} characters"),
        ));
    }
    Ok(ListQuery {
        q: params.q.filter(|q| !q.trim().is_empty()),
        cursor: params.cursor,
        limit: params.limit,
    })
}

// ---------------- parties ----------------

fn party_input(
    ext: Option<&str>,
    name: &str,
    kind: &str,
    ipi: Option<&str>,
    isni: Option<&str>,
) -> Result<PartyInput, ApiError> {
    let mut f = Fields::default();
    let ext_ref = ext_ref(&mut f, ext);
    let name = text(&mut f, "name", name);
    let kind = f.check("kind", PartyKind::parse(kind));
    let ipi = optional(&mut f, "ipi", ipi, Ipi::parse);
    let isni = optional(&mut f, "isni", isni, Isni::parse);
    f.finish()?;
    Ok(PartyInput {
        ext_ref: take(ext_ref)?,
        name: take(name)?,
        kind: take(kind)?,
        ipi: take(ipi)?,
        isni: take(isni)?,
    })
}

/// Register a party (person or organisation).
#[utoipa::path(post, path = "/v1/parties", tag = "catalog", request_body = PartyCreate,
    responses((status = 201, body = PartyOut), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn create_party(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<PartyCreate>,
) -> Result<(StatusCode, axum::Json<PartyOut>), ApiError> {
    caller.require(&[Role::Partner], "register parties")?;
    let input = party_input(
        body.ext_ref.as_deref(),
        &body.name,
        &body.kind,
        body.ipi.as_deref(),
        body.isni.as_deref(),
    )?;
    let party = state
        .store
        .create_party(&input, Some(&caller.key.id))
        .await?;
    Ok((StatusCode::CREATED, axum::Json(party.into())))
}

/// List parties, optionally searching names.
#[utoipa::path(get, path = "/v1/parties", tag = "catalog", params(ListParams),
    responses((status = 200, body = PageOut<PartyOut>)), security(("api_key" = [])))]
pub async fn list_parties(
    State(state): State<AppState>,
    _caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<PageOut<PartyOut>>, ApiError> {
    let page = state.store.parties(&list_query(params)?).await?;
    Ok(axum::Json(PageOut::map(page, PartyOut::from)))
}

/// A party.
#[utoipa::path(get, path = "/v1/parties/{id}", tag = "catalog", params(("id" = String, Path)),
    responses((status = 200, body = PartyOut), (status = 404, body = Problem)), security(("api_key" = [])))]
pub async fn get_party(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<PartyOut>, ApiError> {
    let party = state
        .store
        .party(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("party"))?;
    Ok(axum::Json(party.into()))
}

/// Change a party.
#[utoipa::path(patch, path = "/v1/parties/{id}", tag = "catalog", params(("id" = String, Path)), request_body = PartyPatch,
    responses((status = 200, body = PartyOut), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn patch_party(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<PartyPatch>,
) -> Result<axum::Json<PartyOut>, ApiError> {
    let party = state
        .store
        .party(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("party"))?;
    if !caller.can_edit_party(&party) {
        return Err(ApiError::forbidden(
            "this key may edit only parties it created or acts for",
        ));
    }
    let cur = &party.fields;
    let input = party_input(
        body.ext_ref
            .clone()
            .unwrap_or_else(|| cur.ext_ref.clone())
            .as_deref(),
        body.name.as_deref().unwrap_or(&cur.name),
        body.kind.as_deref().unwrap_or(cur.kind.as_str()),
        body.ipi
            .clone()
            .unwrap_or_else(|| cur.ipi.as_ref().map(|v| v.as_str().to_owned()))
            .as_deref(),
        body.isni
            .clone()
            .unwrap_or_else(|| cur.isni.as_ref().map(|v| v.as_str().to_owned()))
            .as_deref(),
    )?;
    Ok(axum::Json(
        state.store.update_party(&id, &input).await?.into(),
    ))
}

// ---------------- works ----------------

fn work_input(
    ext: Option<&str>,
    iswc: Option<&str>,
    title: &str,
    writers: &[String],
    split_entries: Option<&[SplitEntry]>,
) -> Result<WorkInput, ApiError> {
    let mut f = Fields::default();
    let ext_ref = ext_ref(&mut f, ext);
    let iswc = optional(&mut f, "iswc", iswc, Iswc::parse);
    let title = text(&mut f, "title", title);
    let writers = id_list(&mut f, "writers", writers);
    let splits = splits(&mut f, split_entries);
    f.finish()?;
    Ok(WorkInput {
        ext_ref: take(ext_ref)?,
        iswc: take(iswc)?,
        title: take(title)?,
        writers: take(writers)?,
        splits: take(splits)?,
    })
}

/// Register a musical work with its writers and publishing splits.
#[utoipa::path(post, path = "/v1/works", tag = "catalog", request_body = WorkCreate,
    responses((status = 201, body = WorkOut), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn create_work(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<WorkCreate>,
) -> Result<(StatusCode, axum::Json<WorkOut>), ApiError> {
    caller.require(&[Role::Partner], "register works")?;
    let input = work_input(
        body.ext_ref.as_deref(),
        body.iswc.as_deref(),
        &body.title,
        &body.writers,
        body.splits.as_deref(),
    )?;
    let work = state
        .store
        .create_work(&input, Some(&caller.key.id))
        .await?;
    Ok((StatusCode::CREATED, axum::Json(WorkOut::new(work, true))))
}

/// List works, optionally searching titles.
#[utoipa::path(get, path = "/v1/works", tag = "catalog", params(ListParams),
    responses((status = 200, body = PageOut<WorkOut>)), security(("api_key" = [])))]
pub async fn list_works(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<PageOut<WorkOut>>, ApiError> {
    let page = state.store.works(&list_query(params)?).await?;
    Ok(axum::Json(PageOut::map(page, |w| {
        let private = caller.can_see_work_private(&w);
        WorkOut::new(w, private)
    })))
}

/// A work.
#[utoipa::path(get, path = "/v1/works/{id}", tag = "catalog", params(("id" = String, Path)),
    responses((status = 200, body = WorkOut), (status = 404, body = Problem)), security(("api_key" = [])))]
pub async fn get_work(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<WorkOut>, ApiError> {
    let work = state
        .store
        .work(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("work"))?;
    let private = caller.can_see_work_private(&work);
    Ok(axum::Json(WorkOut::new(work, private)))
}

/// A work by ISWC.
#[utoipa::path(get, path = "/v1/works/by-iswc/{iswc}", tag = "catalog", params(("iswc" = String, Path)),
    responses((status = 200, body = WorkOut), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_work_by_iswc(
    State(state): State<AppState>,
    caller: Caller,
    Path(iswc): Path<String>,
) -> Result<axum::Json<WorkOut>, ApiError> {
    let iswc = Iswc::parse(&iswc).map_err(|e| ApiError::field("iswc", e.to_string()))?;
    let work = state
        .store
        .work_by_iswc(&iswc)
        .await?
        .ok_or_else(|| ApiError::not_found("work"))?;
    let private = caller.can_see_work_private(&work);
    Ok(axum::Json(WorkOut::new(work, private)))
}

/// Change a work; lists and splits given replace the old ones.
#[utoipa::path(patch, path = "/v1/works/{id}", tag = "catalog", params(("id" = String, Path)), request_body = WorkPatch,
    responses((status = 200, body = WorkOut), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn patch_work(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<WorkPatch>,
) -> Result<axum::Json<WorkOut>, ApiError> {
    let work = state
        .store
        .work(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("work"))?;
    if !caller.can_edit_work(&work) {
        return Err(ApiError::forbidden(
            "a partner may edit only works its parties hold shares in or that it created",
        ));
    }
    let cur = &work.fields;
    let cur_splits = split_entries(&cur.splits);
    let splits = body.splits.unwrap_or(cur_splits);
    let input = work_input(
        body.ext_ref
            .clone()
            .unwrap_or_else(|| cur.ext_ref.clone())
            .as_deref(),
        body.iswc
            .clone()
            .unwrap_or_else(|| cur.iswc.as_ref().map(|v| v.as_str().to_owned()))
            .as_deref(),
        body.title.as_deref().unwrap_or(&cur.title),
        body.writers.as_deref().unwrap_or(&cur.writers),
        splits.as_deref(),
    )?;
    Ok(axum::Json(WorkOut::new(
        state.store.update_work(&id, &input).await?,
        true,
    )))
}

// ---------------- recordings ----------------

#[allow(clippy::too_many_arguments)]
fn recording_input(
    ext: Option<&str>,
    isrc: &str,
    title: &str,
    duration_ms: Option<i64>,
    artists: &[String],
    works: &[String],
    split_entries: Option<&[SplitEntry]>,
) -> Result<RecordingInput, ApiError> {
    let mut f = Fields::default();
    let ext_ref = ext_ref(&mut f, ext);
    let isrc = f.check("isrc", Isrc::parse(isrc));
    let title = text(&mut f, "title", title);
    if duration_ms.is_some_and(|d| d <= 0 || d > 24 * 3_600_000) {
        f.fail("duration_ms", "must be between 1 ms and 24 hours");
    }
    let artists = id_list(&mut f, "artists", artists);
    let works = id_list(&mut f, "works", works);
    let splits = splits(&mut f, split_entries);
    f.finish()?;
    Ok(RecordingInput {
        ext_ref: take(ext_ref)?,
        isrc: take(isrc)?,
        title: take(title)?,
        duration_ms,
        artists: take(artists)?,
        works: take(works)?,
        splits: take(splits)?,
    })
}

/// Register a recording with its artists, works and master splits.
#[utoipa::path(post, path = "/v1/recordings", tag = "catalog", request_body = RecordingCreate,
    responses((status = 201, body = RecordingOut), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn create_recording(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<RecordingCreate>,
) -> Result<(StatusCode, axum::Json<RecordingOut>), ApiError> {
    caller.require(&[Role::Partner], "register recordings")?;
    let input = recording_input(
        body.ext_ref.as_deref(),
        &body.isrc,
        &body.title,
        body.duration_ms,
        &body.artists,
        &body.works,
        body.splits.as_deref(),
    )?;
    let rec = state
        .store
        .create_recording(&input, Some(&caller.key.id))
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(RecordingOut::new(rec, true)),
    ))
}

/// List recordings, optionally searching titles.
#[utoipa::path(get, path = "/v1/recordings", tag = "catalog", params(ListParams),
    responses((status = 200, body = PageOut<RecordingOut>)), security(("api_key" = [])))]
pub async fn list_recordings(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<PageOut<RecordingOut>>, ApiError> {
    let page = state.store.recordings(&list_query(params)?).await?;
    Ok(axum::Json(PageOut::map(page, |r| {
        let private = caller.can_see_recording_private(&r);
        RecordingOut::new(r, private)
    })))
}

async fn load_recording(state: &AppState, id: &str) -> Result<Recording, ApiError> {
    state
        .store
        .recording(id)
        .await?
        .ok_or_else(|| ApiError::not_found("recording"))
}

/// A recording.
#[utoipa::path(get, path = "/v1/recordings/{id}", tag = "catalog", params(("id" = String, Path)),
    responses((status = 200, body = RecordingOut), (status = 404, body = Problem)), security(("api_key" = [])))]
pub async fn get_recording(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<RecordingOut>, ApiError> {
    let rec = load_recording(&state, &id).await?;
    let private = caller.can_see_recording_private(&rec);
    Ok(axum::Json(RecordingOut::new(rec, private)))
}

/// A recording by ISRC.
#[utoipa::path(get, path = "/v1/recordings/by-isrc/{isrc}", tag = "catalog", params(("isrc" = String, Path)),
    responses((status = 200, body = RecordingOut), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_recording_by_isrc(
    State(state): State<AppState>,
    caller: Caller,
    Path(isrc): Path<String>,
) -> Result<axum::Json<RecordingOut>, ApiError> {
    let isrc = Isrc::parse(&isrc).map_err(|e| ApiError::field("isrc", e.to_string()))?;
    let rec = state
        .store
        .recording_by_isrc(&isrc)
        .await?
        .ok_or_else(|| ApiError::not_found("recording"))?;
    let private = caller.can_see_recording_private(&rec);
    Ok(axum::Json(RecordingOut::new(rec, private)))
}

/// Change a recording; lists and splits given replace the old ones.
#[utoipa::path(patch, path = "/v1/recordings/{id}", tag = "catalog", params(("id" = String, Path)), request_body = RecordingPatch,
    responses((status = 200, body = RecordingOut), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn patch_recording(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<RecordingPatch>,
) -> Result<axum::Json<RecordingOut>, ApiError> {
    let rec = load_recording(&state, &id).await?;
    if !caller.can_edit_recording(&rec) {
        return Err(ApiError::forbidden(
            "a partner may edit only recordings its parties hold shares in or that it created",
        ));
    }
    let cur = &rec.fields;
    let cur_splits = split_entries(&cur.splits);
    let splits = body.splits.unwrap_or(cur_splits);
    let input = recording_input(
        body.ext_ref
            .clone()
            .unwrap_or_else(|| cur.ext_ref.clone())
            .as_deref(),
        body.isrc.as_deref().unwrap_or(cur.isrc.as_str()),
        body.title.as_deref().unwrap_or(&cur.title),
        body.duration_ms.unwrap_or(cur.duration_ms),
        body.artists.as_deref().unwrap_or(&cur.artists),
        body.works.as_deref().unwrap_or(&cur.works),
        splits.as_deref(),
    )?;
    Ok(axum::Json(RecordingOut::new(
        state.store.update_recording(&id, &input).await?,
        true,
    )))
}

// ---------------- audio ----------------

fn stem_slot(name: &str) -> Result<AudioSlot, ApiError> {
    let valid = !name.is_empty()
        && name.len() <= STEM_NAME_CHARS_MAX
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if !valid {
        return Err(ApiError::field(
            "name",
            format!(
                "a stem name is 1 to {STEM_NAME_CHARS_MAX} lowercase letters, digits, '-' or '_' (e.g. vocals, drums)"
            ),
        ));
    }
    Ok(AudioSlot::Stem(name.to_owned()))
}

/// The answer to audio that `probe` refused: 415 for what is not audio encore reads, else 422.
pub(crate) fn probe_error(e: encore_engine::probe::ProbeError) -> ApiError {
    match e {
        encore_engine::probe::ProbeError::Unsupported => {
            ApiError::new(Code::UnsupportedMediaType, e.to_string())
        }
        other => ApiError::field("body", other.to_string()),
    }
}

async fn upload(
    state: AppState,
    caller: Caller,
    id: String,
    slot: AudioSlot,
    req: Request,
) -> Result<axum::Json<AudioOut>, ApiError> {
    let rec = load_recording(&state, &id).await?;
    if !caller.can_edit_recording(&rec) {
        return Err(ApiError::forbidden(
            "only an admin or a partner who may edit this recording may upload its audio",
        ));
    }
    let bytes = body_bytes(req, &()).await?;
    if bytes.is_empty() {
        return Err(ApiError::field(
            "body",
            "the upload is empty; send the audio file as the request body",
        ));
    }
    let limit_ms = state.config.audio_duration_max_ms;
    let probe_bytes = bytes.clone();
    // The mix is fingerprinted in the same decoding pass (for identify and cover guards).
    let is_mix = slot == AudioSlot::Mix;
    let (info, print) = tokio::task::spawn_blocking(move || {
        if is_mix {
            encore_engine::fingerprint::probe_and_fingerprint(&probe_bytes, limit_ms)
                .map(|(info, print)| (info, Some(print)))
        } else {
            encore_engine::probe::probe(&probe_bytes, limit_ms).map(|info| (info, None))
        }
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(probe_error)?;
    let fingerprint = print.filter(|p| !p.is_empty()).map(|p| NewFingerprint {
        algorithm: i64::from(encore_engine::fingerprint::ALGORITHM),
        items: p.to_bytes(),
    });
    let blob = state.blobs.put(bytes).await?;
    let asset = AudioAsset {
        slot,
        sha256: blob.sha256,
        size_bytes: i64::try_from(blob.size_bytes).unwrap_or(i64::MAX),
        format: info.format.as_str().to_owned(),
        codec: info.codec,
        sample_rate: i64::from(info.sample_rate),
        channels: i64::from(info.channels),
        duration_ms: i64::try_from(info.duration_ms).unwrap_or(i64::MAX),
        uploaded_by: Some(caller.key.id.clone()),
        uploaded_at_ms: crate::now_ms(),
    };
    state
        .store
        .put_audio(&id, &asset, fingerprint.as_ref())
        .await?;
    metrics::counter!("encore_audio_uploads_total", "format" => asset.format.clone()).increment(1);
    Ok(axum::Json(AudioOut::from(&asset)))
}

/// Upload the full mix (WAV, FLAC, MP3 or Ogg Vorbis). It is decoded end to end and measured;
/// anything that does not decode is refused and nothing is stored.
#[utoipa::path(put, path = "/v1/recordings/{id}/audio", tag = "audio", params(("id" = String, Path)),
    request_body(content = Vec<u8>, content_type = "audio/*"),
    responses((status = 200, body = AudioOut), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn put_mix(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    req: Request,
) -> Result<axum::Json<AudioOut>, ApiError> {
    upload(state, caller, id, AudioSlot::Mix, req).await
}

/// Upload a named stem (e.g. `vocals`, `drums`).
#[utoipa::path(put, path = "/v1/recordings/{id}/stems/{name}", tag = "audio",
    params(("id" = String, Path), ("name" = String, Path)),
    request_body(content = Vec<u8>, content_type = "audio/*"),
    responses((status = 200, body = AudioOut), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn put_stem(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, name)): Path<(String, String)>,
    req: Request,
) -> Result<axum::Json<AudioOut>, ApiError> {
    let slot = stem_slot(&name)?;
    upload(state, caller, id, slot, req).await
}

async fn download(
    state: AppState,
    caller: Caller,
    id: String,
    slot: AudioSlot,
) -> Result<Response, ApiError> {
    let rec = load_recording(&state, &id).await?;
    if !caller.can_read_audio(&rec) {
        return Err(ApiError::forbidden(
            "original audio is private to its rightsholders, its artists, admins and workers",
        ));
    }
    let Some(asset) = rec.audio.iter().find(|a| a.slot == slot) else {
        return Err(ApiError::new(
            Code::NotFound,
            "no audio has been uploaded there",
        ));
    };
    let bytes = state.blobs.get(&asset.sha256).await?;
    let mime = match asset.format.as_str() {
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        _ => "application/octet-stream",
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::ETAG, &format!("\"{}\"", asset.sha256)),
        ],
        Body::from(bytes),
    )
        .into_response())
}

/// Download the full mix.
#[utoipa::path(get, path = "/v1/recordings/{id}/audio", tag = "audio", params(("id" = String, Path)),
    responses((status = 200, content_type = "audio/*", body = Vec<u8>), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_mix(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    download(state, caller, id, AudioSlot::Mix).await
}

/// Download a stem.
#[utoipa::path(get, path = "/v1/recordings/{id}/stems/{name}", tag = "audio",
    params(("id" = String, Path), ("name" = String, Path)),
    responses((status = 200, content_type = "audio/*", body = Vec<u8>), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_stem(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let slot = stem_slot(&name)?;
    download(state, caller, id, slot).await
}
