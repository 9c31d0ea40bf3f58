//! Reading the Config Store and Secret Store definitions of the repository's manifest
//! (inline, or JSON files in Viceroy's format).

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use toml::Value;

use super::invalid_data;

/// A Secret Store entry's value as Viceroy takes it.
#[derive(Debug, Clone)]
pub(super) enum SecretValue {
    /// The value itself.
    Data(String),
    /// A file holding the value.
    File(String),
}

/// Reads a Config Store definition (inline-toml or JSON file) into a map.
pub(super) fn config_store_contents(
    store: Option<&Value>,
    base_dir: &Path,
) -> io::Result<BTreeMap<String, String>> {
    let Some(store) = store else {
        return Ok(BTreeMap::new());
    };
    let table = store
        .as_table()
        .ok_or_else(|| invalid_data("config_stores.config is not a table".into()))?;
    match table.get("format").and_then(Value::as_str) {
        Some("inline-toml") => {
            let mut out = BTreeMap::new();
            if let Some(contents) = table.get("contents").and_then(Value::as_table) {
                for (k, v) in contents {
                    let v = v.as_str().ok_or_else(|| {
                        invalid_data(format!("config_stores.config key {k} is not a string"))
                    })?;
                    out.insert(k.clone(), v.to_string());
                }
            }
            Ok(out)
        }
        Some("json") => {
            let file = table
                .get("file")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid_data("config_stores.config has no file".into()))?;
            read_json_string_map(&base_dir.join(file))
        }
        other => Err(invalid_data(format!(
            "config_stores.config has unsupported format {other:?}"
        ))),
    }
}

/// Reads a Secret Store definition (inline array or JSON file) into ordered entries.
pub(super) fn secret_store_entries(
    store: Option<&Value>,
    base_dir: &Path,
) -> io::Result<Vec<(String, SecretValue)>> {
    match store {
        None => Ok(Vec::new()),
        Some(Value::Table(t)) => {
            let file = t.get("file").and_then(Value::as_str).ok_or_else(|| {
                invalid_data("secret_stores.secrets is a table without file".into())
            })?;
            Ok(read_json_string_map(&base_dir.join(file))?
                .into_iter()
                .map(|(k, v)| (k, SecretValue::Data(v)))
                .collect())
        }
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                let key = item
                    .get("key")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid_data("secret_stores.secrets entry has no key".into()))?;
                let value = match (
                    item.get("data").and_then(Value::as_str),
                    item.get("file").and_then(Value::as_str),
                ) {
                    (Some(d), None) => SecretValue::Data(d.to_string()),
                    (None, Some(f)) => SecretValue::File(f.to_string()),
                    _ => {
                        return Err(invalid_data(format!(
                            "secret_stores.secrets entry {key} needs exactly one of data, file"
                        )))
                    }
                };
                Ok((key.to_string(), value))
            })
            .collect(),
        Some(_) => Err(invalid_data(
            "secret_stores.secrets is neither an array nor a table".into(),
        )),
    }
}

/// Reads a flat JSON object of strings (Viceroy's JSON format for config and secret
/// stores).
fn read_json_string_map(path: &Path) -> io::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display())))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| invalid_data(format!("{} is not JSON: {e}", path.display())))?;
    let object = value
        .as_object()
        .ok_or_else(|| invalid_data(format!("{} is not a JSON object", path.display())))?;
    object
        .iter()
        .map(|(k, v)| {
            v.as_str()
                .map(|s| (k.clone(), s.to_string()))
                .ok_or_else(|| {
                    invalid_data(format!("{}: value of {k} is not a string", path.display()))
                })
        })
        .collect()
}
