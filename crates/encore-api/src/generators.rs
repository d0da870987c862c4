//! The built-in generators, for clients building creation forms: `GET /v1/generators` and
//! `GET /v1/generators/{name}`, each with its parameters as a JSON Schema (also published in
//! the OpenAPI document as `components.schemas.<Name>Params`).

use axum::extract::Path;
use encore_engine::generate::{Execution, Generator, generator, generators};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, Problem};

/// What a generator may take and make.
#[derive(Debug, Serialize, ToSchema)]
pub struct LimitsOut {
    /// Fewest recordings it takes.
    pub inputs_min: usize,
    /// Most recordings it takes.
    pub inputs_max: usize,
    /// Longest input (mix or stem), ms.
    pub input_duration_max_ms: u64,
    /// Longest output, ms.
    pub output_duration_max_ms: u64,
    /// Roughly the most memory one run takes, bytes.
    pub memory_bytes_estimate: u64,
}

/// A generator.
#[derive(Debug, Serialize, ToSchema)]
pub struct GeneratorOut {
    /// Stable name used in requests (`remix`, `cover`).
    pub name: &'static str,
    /// One sentence for people choosing a generator.
    pub description: &'static str,
    /// The use it performs, which the rights check must allow for every input.
    #[serde(rename = "use")]
    pub use_type: &'static str,
    /// `local` (this server's CPU) or `remote` (a service elsewhere).
    pub execution: &'static str,
    /// Its parameters as a JSON Schema (draft 2020-12) object.
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    /// Its limits.
    pub limits: LimitsOut,
}

/// Every generator.
#[derive(Debug, Serialize, ToSchema)]
pub struct GeneratorList {
    /// The generators, by name.
    pub items: Vec<GeneratorOut>,
}

fn out(g: &dyn Generator) -> GeneratorOut {
    let l = g.limits();
    GeneratorOut {
        name: g.name(),
        description: g.description(),
        use_type: g.use_type().as_str(),
        execution: match g.execution() {
            Execution::Local => "local",
            Execution::Remote => "remote",
        },
        params: g.params_schema(),
        limits: LimitsOut {
            inputs_min: l.inputs_min,
            inputs_max: l.inputs_max,
            input_duration_max_ms: l.input_duration_max_ms,
            output_duration_max_ms: l.output_duration_max_ms,
            memory_bytes_estimate: l.memory_bytes_estimate,
        },
    }
}

/// The built-in generators with their parameter schemas and limits.
#[utoipa::path(get, path = "/v1/generators", tag = "generators",
    responses((status = 200, body = GeneratorList), (status = 401, body = Problem)), security(("api_key" = [])))]
pub async fn list_generators(_caller: Caller) -> axum::Json<GeneratorList> {
    let mut items: Vec<GeneratorOut> = generators().iter().map(|g| out(g.as_ref())).collect();
    items.sort_by_key(|g| g.name);
    axum::Json(GeneratorList { items })
}

/// One generator by name.
#[utoipa::path(get, path = "/v1/generators/{name}", tag = "generators", params(("name" = String, Path)),
    responses((status = 200, body = GeneratorOut), (status = 404, body = Problem), (status = 401, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_generator(
    _caller: Caller,
    Path(name): Path<String>,
) -> Result<axum::Json<GeneratorOut>, ApiError> {
    match generator(&name) {
        Some(g) => Ok(axum::Json(out(g.as_ref()))),
        None => Err(ApiError::not_found("generator")),
    }
}

/// Adds each generator's parameter schema to an OpenAPI document (as JSON) under
/// `components.schemas.<Name>Params`, e.g. `RemixParams`.
pub fn publish_param_schemas(doc: &mut serde_json::Value) {
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    let components = root
        .entry("components")
        .or_insert_with(|| serde_json::json!({}));
    let Some(components) = components.as_object_mut() else {
        return;
    };
    let schemas = components
        .entry("schemas")
        .or_insert_with(|| serde_json::json!({}));
    let Some(schemas) = schemas.as_object_mut() else {
        return;
    };
    for g in generators() {
        let mut schema = g.params_schema();
        if let Some(s) = schema.as_object_mut() {
            s.remove("$schema");
        }
        let mut name: String = g.name().to_owned();
        if let Some(first) = name.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        schemas.insert(format!("{name}Params"), schema);
    }
}
