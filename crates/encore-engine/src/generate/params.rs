//! Reading and checking generator parameters.

use std::collections::BTreeSet;

use serde_json::Value;

use super::GenerateError;

/// A generator's parameters: a JSON object, as a request carries them.
///
/// Numbers may also be given as strings of digits (`"1.5"`), as form posts and
/// the command line carry them.
pub type Params = serde_json::Map<String, Value>;

/// Reads parameters one by one with their ranges, remembering which were
/// read, so that [`Reader::finish`] can refuse the ones nobody asked for.
pub(crate) struct Reader<'a> {
    params: &'a Params,
    generator: &'static str,
    seen: BTreeSet<String>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(generator: &'static str, params: &'a Params) -> Self {
        Self {
            params,
            generator,
            seen: BTreeSet::new(),
        }
    }

    /// A number in `min..=max`, or `None` when absent (or JSON `null`).
    pub(crate) fn number(
        &mut self,
        name: &str,
        min: f64,
        max: f64,
    ) -> Result<Option<f64>, GenerateError> {
        self.seen.insert(name.to_owned());
        match self.params.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => number_in(name, value, min, max).map(Some),
        }
    }

    /// A number in `min..=max`, `default` when absent.
    pub(crate) fn number_or(
        &mut self,
        name: &str,
        default: f64,
        min: f64,
        max: f64,
    ) -> Result<f64, GenerateError> {
        Ok(self.number(name, min, max)?.unwrap_or(default))
    }

    /// A string, or `None` when absent; numbers are given as their JSON text.
    pub(crate) fn text(&mut self, name: &str) -> Result<Option<String>, GenerateError> {
        self.seen.insert(name.to_owned());
        match self.params.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(GenerateError::invalid(
                name,
                format!("{name} must be a string, not {other}"),
            )),
        }
    }

    /// Every `prefix<key>` parameter (e.g. `stem.drums`) and every entry of the
    /// object parameter `object` (e.g. `stems: {"drums": 0}`), as
    /// (parameter name, key, value), in name order.
    pub(crate) fn keyed(
        &mut self,
        prefix: &str,
        object: &str,
    ) -> Result<Vec<(String, String, &'a Value)>, GenerateError> {
        let mut out = Vec::new();
        for (name, value) in self.params {
            if let Some(key) = name.strip_prefix(prefix) {
                self.seen.insert(name.clone());
                out.push((name.clone(), key.to_owned(), value));
            }
        }
        self.seen.insert(object.to_owned());
        match self.params.get(object) {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (key, value) in map {
                    out.push((format!("{prefix}{key}"), key.clone(), value));
                }
            }
            Some(other) => {
                return Err(GenerateError::invalid(
                    object,
                    format!("{object} must be an object of names to numbers, not {other}"),
                ));
            }
        }
        Ok(out)
    }

    /// Refuses any parameter that was not read, naming it and the known ones.
    pub(crate) fn finish(self, known: &[&str]) -> Result<(), GenerateError> {
        if let Some(name) = self.params.keys().find(|k| !self.seen.contains(*k)) {
            return Err(GenerateError::invalid(
                name,
                format!(
                    "{} has no parameter named {name}; it takes {}",
                    self.generator,
                    known.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

/// `value` as a finite number in `min..=max`, or an error naming `name`.
pub(crate) fn number_in(
    name: &str,
    value: &Value,
    min: f64,
    max: f64,
) -> Result<f64, GenerateError> {
    let range = || format!("{name} must be between {min:?} and {max:?}");
    let parsed = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    let Some(v) = parsed.filter(|v| v.is_finite()) else {
        return Err(GenerateError::invalid(
            name,
            format!("{}; {value} is not a number", range()),
        ));
    };
    if !(min..=max).contains(&v) {
        return Err(GenerateError::invalid(
            name,
            format!("{}, not {value}", range()),
        ));
    }
    Ok(v)
}

/// A JSON Schema property for a number.
pub(crate) fn number_schema(min: f64, max: f64, default: Option<f64>, description: &str) -> Value {
    let mut schema = serde_json::json!({
        "type": "number",
        "minimum": min,
        "maximum": max,
        "description": description,
    });
    if let (Some(d), Value::Object(map)) = (default, &mut schema) {
        map.insert("default".to_owned(), serde_json::json!(d));
    }
    schema
}
