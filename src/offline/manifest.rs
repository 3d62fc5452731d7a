//! Reading manifests for `plan`/`apply`: files and directories of multi-document YAML, checked
//! the way the API server would check them (CRD schema and CEL), then as a set (duplicates,
//! scope references between objects).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Serialize;
use serde_json::Value;

use super::kinds::{KINDS, Object};
use crate::api::validate::validate;
use crate::api::{GROUP, crds};

/// Namespace of objects whose manifest names none, as `kubectl apply` would use.
pub const DEFAULT_NAMESPACE: &str = "default";
const API_VERSION: &str = "arclink.io/v1alpha1";

/// Where a document came from: the file as given on the command line and its 1-based index
/// among the non-empty documents of that file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub file: String,
    pub document: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (document {})", self.file, self.document)
    }
}

/// kind, namespace and name of an object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectKey {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// A manifest that cannot be used. Every variant names the file and document; those about an
/// object name it, and the field when one is at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("{path}: {message}")]
    Read { path: String, message: String },
    #[error("{origin}: invalid YAML: {message}")]
    Yaml { origin: Origin, message: String },
    #[error("{origin}: {message}")]
    Document { origin: Origin, message: String },
    #[error("{origin}: {object}: {field}: {message}")]
    Invalid {
        origin: Origin,
        object: ObjectKey,
        field: String,
        message: String,
    },
    #[error("{origin}: {object}: duplicate: already declared at {first}")]
    Duplicate {
        origin: Origin,
        object: ObjectKey,
        first: Origin,
    },
    #[error(
        "{origin}: {object}: spec.scopeRef.name: ArcPrivateLinkScope {namespace}/{name} is not declared in the manifests (dangling scopeRef; use spec.scopeId for a scope managed elsewhere)"
    )]
    DanglingScopeRef {
        origin: Origin,
        object: ObjectKey,
        namespace: String,
        name: String,
    },
}

impl ManifestError {
    /// A short, stable name of the error class (the `class` of JSON output).
    pub fn class(&self) -> &'static str {
        match self {
            ManifestError::Read { .. } => "read",
            ManifestError::Yaml { .. } => "yaml",
            ManifestError::Document { .. } => "document",
            ManifestError::Invalid { .. } => "invalid",
            ManifestError::Duplicate { .. } => "duplicate",
            ManifestError::DanglingScopeRef { .. } => "danglingScopeRef",
        }
    }

    pub fn origin(&self) -> Option<&Origin> {
        match self {
            ManifestError::Read { .. } => None,
            ManifestError::Yaml { origin, .. }
            | ManifestError::Document { origin, .. }
            | ManifestError::Invalid { origin, .. }
            | ManifestError::Duplicate { origin, .. }
            | ManifestError::DanglingScopeRef { origin, .. } => Some(origin),
        }
    }

    pub fn object(&self) -> Option<&ObjectKey> {
        match self {
            ManifestError::Invalid { object, .. }
            | ManifestError::Duplicate { object, .. }
            | ManifestError::DanglingScopeRef { object, .. } => Some(object),
            _ => None,
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            ManifestError::Invalid { field, .. } => Some(field),
            ManifestError::DanglingScopeRef { .. } => Some("spec.scopeRef.name"),
            _ => None,
        }
    }
}

/// An object read from a manifest, with where it came from.
#[derive(Clone, Debug)]
pub struct Declared {
    pub origin: Origin,
    pub object: Object,
}

/// What the manifests declare, in dependency order (scopes, endpoints, associations; then by
/// namespace and name), plus notes about documents that were skipped.
#[derive(Debug, Default)]
pub struct Manifests {
    pub objects: Vec<Declared>,
    pub notes: Vec<String>,
}

/// Reads every path (files, or directories whose `*.yaml`/`*.yml` files are read in name
/// order, not recursively). Returns all errors found, not only the first.
pub fn load(paths: &[PathBuf]) -> Result<Manifests, Vec<ManifestError>> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match list(path) {
            Ok(mut found) => files.append(&mut found),
            Err(message) => errors.push(ManifestError::Read {
                path: path.display().to_string(),
                message,
            }),
        }
    }
    let mut manifests = Manifests::default();
    for file in &files {
        let display = file.display().to_string();
        match std::fs::read_to_string(file) {
            Ok(text) => parse_file(&display, &text, &mut manifests, &mut errors),
            Err(e) => errors.push(ManifestError::Read {
                path: display,
                message: e.to_string(),
            }),
        }
    }
    check_set(&manifests.objects, &mut errors);
    if errors.is_empty() {
        for (order, d) in manifests.objects.iter_mut().enumerate() {
            d.object.set_declared(order);
        }
        manifests.objects.sort_by_key(|d| d.object.sort_key());
        Ok(manifests)
    } else {
        Err(errors)
    }
}

/// Parses the documents of one file's text.
fn parse_file(file: &str, text: &str, manifests: &mut Manifests, errors: &mut Vec<ManifestError>) {
    let mut index = 0;
    for chunk in split_documents(text) {
        // Blank lines in front keep the parser's line numbers those of the file.
        let padded = format!(
            "{}{}",
            "\n".repeat(chunk.line.saturating_sub(1)),
            chunk.text
        );
        let parsed: Result<Value, _> = serde_saphyr::from_str(&padded);
        let value = match parsed {
            Ok(Value::Null) => continue,
            Ok(v) => v,
            Err(e) => {
                index += 1;
                errors.push(ManifestError::Yaml {
                    origin: Origin {
                        file: file.to_string(),
                        document: index,
                    },
                    message: first_line(&e.to_string())
                        .trim_start_matches("error: ")
                        .to_string(),
                });
                continue;
            }
        };
        index += 1;
        let origin = Origin {
            file: file.to_string(),
            document: index,
        };
        match document(&origin, value) {
            Ok(object) => manifests.objects.push(Declared { origin, object }),
            Err(Skip::Note(note)) => manifests.notes.push(note),
            Err(Skip::Errors(mut e)) => errors.append(&mut e),
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// The files `path` names; the error is the I/O message.
fn list(path: &Path) -> Result<Vec<PathBuf>, String> {
    let read_err = |e: std::io::Error| e.to_string();
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(read_err)? {
        let p = entry.map_err(read_err)?.path();
        let yaml = p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yaml" || e == "yml");
        if yaml && p.is_file() {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

struct Chunk {
    text: String,
    /// 1-based line where the chunk starts.
    line: usize,
}

/// Splits a YAML stream at document markers (`---` or `...` at the start of a line), which YAML
/// does not allow inside a document's content, so each document is parsed on its own and an
/// error in one does not hide the others.
fn split_documents(text: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    let mut start = 1;
    for (i, line) in text.lines().enumerate() {
        let marker = |m: &str| {
            line.strip_prefix(m)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '#']))
        };
        if marker("---") || marker("...") {
            chunks.push(Chunk {
                text: std::mem::take(&mut current),
                line: start,
            });
            // `--- {inline: document}` keeps content on the marker line, which then is the
            // chunk's first line.
            match line.strip_prefix("---") {
                Some(rest) => {
                    current.push_str(rest);
                    current.push('\n');
                    start = i + 1;
                }
                None => start = i + 2,
            }
            continue;
        }
        current.push_str(line);
        current.push('\n');
    }
    chunks.push(Chunk {
        text: current,
        line: start,
    });
    chunks
}

enum Skip {
    Note(String),
    Errors(Vec<ManifestError>),
}

/// Checks and types one document; documents of other API groups are skipped with a note.
fn document(origin: &Origin, mut value: Value) -> Result<Object, Skip> {
    let doc_err = |message: String| {
        Skip::Errors(vec![ManifestError::Document {
            origin: origin.clone(),
            message,
        }])
    };
    let Some(map) = value.as_object_mut() else {
        return Err(doc_err(
            "not a Kubernetes object (expected a mapping with apiVersion and kind)".into(),
        ));
    };
    let kind = map.get("kind").and_then(Value::as_str).map(str::to_string);
    let api_version = map
        .get("apiVersion")
        .and_then(Value::as_str)
        .map(str::to_string);
    let (Some(kind), Some(api_version)) = (kind, api_version) else {
        return Err(doc_err(
            "apiVersion and kind are required (strings) in every document".into(),
        ));
    };
    let group = api_version.split('/').next().unwrap_or_default();
    if group != GROUP {
        return Err(Skip::Note(format!(
            "{origin}: ignoring {kind} ({api_version}): not an arclink kind"
        )));
    }
    if !KINDS.contains(&kind.as_str()) {
        return Err(doc_err(format!(
            "kind {kind:?} is not an arclink kind ({})",
            KINDS.join(", ")
        )));
    }
    let name = map
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let namespace = map
        .get("metadata")
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_NAMESPACE)
        .to_string();
    let key = ObjectKey {
        kind: kind.clone(),
        namespace: namespace.clone(),
        name: name.clone(),
    };
    let invalid = |field: &str, message: String| ManifestError::Invalid {
        origin: origin.clone(),
        object: key.clone(),
        field: field.to_string(),
        message,
    };
    let mut errors = Vec::new();
    if api_version != API_VERSION {
        errors.push(invalid(
            "apiVersion",
            format!("{api_version:?} is not served; use {API_VERSION}"),
        ));
    }
    errors.extend(metadata_errors(map.get("metadata"), &invalid));
    if map.remove("status").is_some() {
        // Status is the controller's; a manifest exported from a cluster may carry one.
        tracing::debug!(object = %key, "ignoring status in the manifest");
    }
    if !errors.is_empty() {
        return Err(Skip::Errors(errors));
    }
    if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("namespace".into(), Value::String(namespace));
        // Each manifest is generation 1 of its object, so observedGeneration comparisons hold.
        meta.insert("generation".into(), Value::from(1));
    }
    let schema = schema_for(&kind);
    let found = validate(&schema, &value, None);
    if !found.is_empty() {
        return Err(Skip::Errors(
            found
                .into_iter()
                .map(|e| invalid(&e.field, e.message))
                .collect(),
        ));
    }
    Object::from_value(&kind, value).map_err(|e| Skip::Errors(vec![invalid("<root>", e)]))
}

fn metadata_errors(
    meta: Option<&Value>,
    invalid: &dyn Fn(&str, String) -> ManifestError,
) -> Vec<ManifestError> {
    let mut errors = Vec::new();
    let Some(meta) = meta.and_then(Value::as_object) else {
        return vec![invalid("metadata", "required field is missing".into())];
    };
    // A DNS subdomain name (namespaces: a DNS label), as the API server requires.
    let subdomain =
        Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
    let label = Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
    let (Ok(subdomain), Ok(label)) = (subdomain, label) else {
        return errors;
    };
    match meta.get("name") {
        None => errors.push(invalid("metadata.name", "required field is missing".into())),
        Some(Value::String(n)) if n.len() <= 253 && subdomain.is_match(n) => {}
        Some(other) => errors.push(invalid(
            "metadata.name",
            format!(
                "{other} is not a valid name (lowercase DNS subdomain, at most 253 characters)"
            ),
        )),
    }
    match meta.get("namespace") {
        None => {}
        Some(Value::String(n)) if n.len() <= 63 && label.is_match(n) => {}
        Some(other) => errors.push(invalid(
            "metadata.namespace",
            format!(
                "{other} is not a valid namespace (lowercase DNS label, at most 63 characters)"
            ),
        )),
    }
    errors
}

fn schema_for(kind: &str) -> Value {
    crds::all()
        .into_iter()
        .find(|c| c.spec.names.kind == kind)
        .map(|c| crds::schema_of(&c))
        .unwrap_or(Value::Null)
}

/// Checks across documents: one declaration per object, scope references that resolve.
fn check_set(objects: &[Declared], errors: &mut Vec<ManifestError>) {
    let mut seen: BTreeMap<ObjectKey, &Origin> = BTreeMap::new();
    for d in objects {
        let key = d.object.key();
        match seen.get(&key) {
            Some(first) => errors.push(ManifestError::Duplicate {
                origin: d.origin.clone(),
                object: key,
                first: (*first).clone(),
            }),
            None => {
                seen.insert(key, &d.origin);
            }
        }
    }
    for d in objects {
        let Some(scope) = d.object.scope_ref() else {
            continue;
        };
        let key = d.object.key();
        let target = ObjectKey {
            kind: crate::reconcile::scope::KIND.to_string(),
            namespace: key.namespace.clone(),
            name: scope.to_string(),
        };
        if !seen.contains_key(&target) {
            errors.push(ManifestError::DanglingScopeRef {
                origin: d.origin.clone(),
                namespace: key.namespace.clone(),
                name: scope.to_string(),
                object: key,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_split_at_markers_only_at_line_start() {
        let chunks = split_documents("a: 1\n---\nb: |\n  ---\n  x\n--- # c\nc: 3\n...\n");
        let texts: Vec<&str> = chunks.iter().map(|c| c.text.trim()).collect();
        assert_eq!(texts, vec!["a: 1", "b: |\n  ---\n  x", "# c\nc: 3", ""]);
        assert_eq!(chunks[1].line, 2);
    }
}
