//! Reading manifests for `plan`/`apply`: files and directories of multi-document YAML, checked
//! the way the API server would check them (CRD schema and CEL), then as a set (duplicates,
//! Azure resources declared twice, scope references between objects).

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use serde_json::Value;

use super::object::{Object, ObjectKey};
use crate::api::validate::validate;
use crate::api::{GROUP, KINDS, OBJECT_NAME_PATTERN, crds};

/// Namespace of objects whose manifest names none, as `kubectl apply` would use.
pub const DEFAULT_NAMESPACE: &str = "default";
/// Largest manifest file read: far above any real manifest, and small enough to hold in memory.
pub const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;
/// Extensions of the files read from a directory (compared case-insensitively).
const EXTENSIONS: [&str; 2] = ["yaml", "yml"];
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
        "{origin}: {object}: spec.azure: Azure resource {resource_id} is also declared by {first_object} at {first}"
    )]
    DuplicateAzureResource {
        origin: Origin,
        object: ObjectKey,
        resource_id: String,
        first: Origin,
        first_object: ObjectKey,
    },
    #[error(
        "{paths}: no arclink objects ({}) in the manifests: nothing to plan or apply",
        KINDS.join(", ")
    )]
    NoObjects { paths: String },
    #[error(
        "{origin}: {object}: {field}: {kind} {namespace}/{name} is not declared in the manifests (dangling {}; {})",
        field.trim_start_matches("spec.").trim_end_matches(".name"),
        managed_elsewhere(kind)
    )]
    DanglingScopeRef {
        origin: Origin,
        object: ObjectKey,
        /// The kind referred to.
        kind: &'static str,
        /// The referring field (`spec.scopeRef.name`).
        field: String,
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
            ManifestError::DuplicateAzureResource { .. } => "duplicateAzureResource",
            ManifestError::DanglingScopeRef { .. } => "danglingScopeRef",
            ManifestError::NoObjects { .. } => "noObjects",
        }
    }

    pub fn origin(&self) -> Option<&Origin> {
        match self {
            ManifestError::Read { .. } | ManifestError::NoObjects { .. } => None,
            ManifestError::Yaml { origin, .. }
            | ManifestError::Document { origin, .. }
            | ManifestError::Invalid { origin, .. }
            | ManifestError::Duplicate { origin, .. }
            | ManifestError::DuplicateAzureResource { origin, .. }
            | ManifestError::DanglingScopeRef { origin, .. } => Some(origin),
        }
    }

    pub fn object(&self) -> Option<&ObjectKey> {
        match self {
            ManifestError::Invalid { object, .. }
            | ManifestError::Duplicate { object, .. }
            | ManifestError::DuplicateAzureResource { object, .. }
            | ManifestError::DanglingScopeRef { object, .. } => Some(object),
            _ => None,
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            ManifestError::Invalid { field, .. } => Some(field),
            ManifestError::DuplicateAzureResource { .. } => Some("spec.azure"),
            ManifestError::DanglingScopeRef { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// How to name a target of `kind` that no manifest declares.
fn managed_elsewhere(kind: &str) -> &'static str {
    match kind {
        crate::reconcile::scope::KIND => "use spec.scopeId for a scope managed elsewhere",
        _ => "use spec.target (resourceId and groupId) for a resource managed elsewhere",
    }
}

/// An object read from a manifest, with where it came from.
#[derive(Clone, Debug)]
pub struct Document {
    pub origin: Origin,
    pub object: Object,
}

/// What the manifests declare, in dependency order (scopes, endpoints, associations; then by
/// namespace and name), plus notes about documents that were skipped.
#[derive(Debug, Default)]
pub struct Manifests {
    pub objects: Vec<Document>,
    pub notes: Vec<String>,
}

/// Reads every path (regular files, or directories whose `*.yaml`/`*.yml` files, in any case,
/// are read in name order, not recursively). `default_subscription` completes the Azure ids of
/// objects that name no subscription, to find two objects declaring one Azure resource.
/// Returns all errors found, not only the first; declaring no arclink object at all is one.
pub fn load(
    paths: &[PathBuf],
    default_subscription: Option<&str>,
) -> Result<Manifests, Vec<ManifestError>> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        files.append(&mut list(path, &mut errors));
    }
    let mut manifests = Manifests::default();
    for file in &files {
        let display = file.display().to_string();
        match read(file) {
            Ok(text) => parse_file(&display, &text, &mut manifests, &mut errors),
            Err(message) => errors.push(ManifestError::Read {
                path: display,
                message,
            }),
        }
    }
    check_set(&manifests.objects, default_subscription, &mut errors);
    if errors.is_empty() && manifests.objects.is_empty() {
        let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        errors.push(ManifestError::NoObjects {
            paths: paths.join(", "),
        });
    }
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
        let parsed: Result<Value, _> = serde_saphyr::from_str(&chunk.text);
        let value = match parsed {
            Ok(Value::Null) => continue,
            Ok(v) => v,
            Err(e) => {
                index += 1;
                // Line numbers of the file, not of the document.
                let offset = u64::try_from(chunk.line.saturating_sub(1)).unwrap_or(u64::MAX);
                let rendered =
                    e.render_with_options(serde_saphyr::render_options! { line_offset: offset });
                errors.push(ManifestError::Yaml {
                    origin: Origin {
                        file: file.to_string(),
                        document: index,
                    },
                    message: first_line(&rendered)
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
            Ok(object) => manifests.objects.push(Document { origin, object }),
            Err(Skip::Note(note)) => manifests.notes.push(note),
            Err(Skip::Errors(mut e)) => errors.append(&mut e),
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// The manifest files `path` names: itself when it is a regular file, the manifest files of a
/// directory (an error when there are none). Anything else (a FIFO, a device, a broken
/// symbolic link) is an error naming it: reading it could block or never end.
fn list(path: &Path, errors: &mut Vec<ManifestError>) -> Vec<PathBuf> {
    let read_err = |p: &Path, message: String| ManifestError::Read {
        path: p.display().to_string(),
        message,
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            errors.push(read_err(path, io_message(path, &e)));
            return Vec::new();
        }
    };
    if meta.is_file() {
        return vec![path.to_path_buf()];
    }
    if !meta.is_dir() {
        errors.push(read_err(path, "not a regular file or directory".into()));
        return Vec::new();
    }
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(read_err(path, e.to_string()));
            return Vec::new();
        }
    };
    let errors_before = errors.len();
    let mut files = Vec::new();
    for entry in entries {
        let p = match entry {
            Ok(entry) => entry.path(),
            Err(e) => {
                errors.push(read_err(path, e.to_string()));
                continue;
            }
        };
        let manifest = p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)));
        if !manifest {
            continue;
        }
        match std::fs::metadata(&p) {
            Ok(m) if m.is_file() => files.push(p),
            // Not recursive.
            Ok(m) if m.is_dir() => {}
            Ok(_) => errors.push(read_err(&p, "not a regular file".into())),
            Err(e) => errors.push(read_err(&p, io_message(&p, &e))),
        }
    }
    if files.is_empty() && errors.len() == errors_before {
        errors.push(read_err(
            path,
            "no manifests found: a directory is read for its *.yaml and *.yml files, not recursively"
                .into(),
        ));
    }
    files.sort();
    files
}

/// An I/O error's message, saying when `path` is a symbolic link to nothing.
fn io_message(path: &Path, e: &std::io::Error) -> String {
    match std::fs::read_link(path) {
        Ok(target) if e.kind() == std::io::ErrorKind::NotFound => {
            format!("broken symbolic link to {}", target.display())
        }
        _ => e.to_string(),
    }
}

/// The text of a manifest file [`list`] found to be regular, refusing one that is larger than
/// [`MAX_FILE_SIZE`] without reading more of it.
fn read(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(format!(
            "larger than {} MiB: not a manifest",
            MAX_FILE_SIZE / (1024 * 1024)
        ));
    }
    String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))
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
    let found = validate(schema_for(&kind), &value, None);
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
    let subdomain = Regex::new(OBJECT_NAME_PATTERN);
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

/// The schema of `kind`, generated once: generating it for every document would cost more
/// than validating the document.
fn schema_for(kind: &str) -> &'static Value {
    static SCHEMAS: LazyLock<Vec<(String, Value)>> = LazyLock::new(|| {
        crds::all()
            .iter()
            .map(|c| (c.spec.names.kind.clone(), crds::schema_of(c)))
            .collect()
    });
    SCHEMAS
        .iter()
        .find(|(k, _)| k == kind)
        .map_or(&Value::Null, |(_, schema)| schema)
}

/// Checks across documents: one declaration per object and per Azure resource, scope
/// references that resolve.
fn check_set(
    objects: &[Document],
    default_subscription: Option<&str>,
    errors: &mut Vec<ManifestError>,
) {
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
    // ARM ids compare case-insensitively.
    let mut resources: BTreeMap<String, &Document> = BTreeMap::new();
    for d in objects {
        let Some(id) = d.object.azure_id(default_subscription) else {
            continue;
        };
        match resources.entry(id.to_ascii_lowercase()) {
            // The same object twice is the duplicate above.
            Entry::Occupied(first) if first.get().object.key() == d.object.key() => {}
            Entry::Occupied(first) => errors.push(ManifestError::DuplicateAzureResource {
                origin: d.origin.clone(),
                object: d.object.key(),
                resource_id: id,
                first: first.get().origin.clone(),
                first_object: first.get().object.key(),
            }),
            Entry::Vacant(slot) => {
                slot.insert(d);
            }
        }
    }
    for d in objects {
        let Some(reference) = d.object.reference() else {
            continue;
        };
        let key = d.object.key();
        let target = ObjectKey {
            kind: reference.kind.to_string(),
            namespace: key.namespace.clone(),
            name: reference.name.to_string(),
        };
        if !seen.contains_key(&target) {
            errors.push(ManifestError::DanglingScopeRef {
                origin: d.origin.clone(),
                kind: reference.kind,
                field: format!("spec.{}.name", reference.field),
                namespace: key.namespace.clone(),
                name: reference.name.to_string(),
                object: key,
            });
        }
    }
}

#[cfg(test)]
mod tests;
