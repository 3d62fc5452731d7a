//! Time to load one manifest file of many small documents, to check that loading stays linear
//! in the number of documents: arclink scopes (parsed and validated against the CRD schema and
//! its CEL rules), and documents of another kind (parsed, then skipped with a note).
//!
//! `cargo bench --bench manifest_bench -- [documents...]` (default 10000 20000 40000)
//!
//! On the shared 2-core development machine (load average about 5), release build:
//!
//! | documents | scopes, before | scopes, after | other kinds, before | other kinds, after |
//! |---|---|---|---|---|
//! | 5,000  | 64 s  | 8.8 s  | 1.2 s  | 0.20 s |
//! | 10,000 | 141 s | 19 s   | 6.3 s  | 0.24 s |
//! | 20,000 | 263 s | 42 s   | 26 s   | 0.71 s |
//! | 40,000 | —     | 81 s   | —      | 1.7 s  |
//!
//! Before, every document was parsed behind as many blank lines as preceded it in the file
//! (quadratic: four times the time for twice the documents) and the CRD schemas were generated
//! again for every document; what remains per scope is mostly compiling the schema's patterns
//! and CEL rules.

use std::path::Path;
use std::time::{Duration, Instant};

use arclink::offline::manifest;

const SCOPE: &str = "apiVersion: arclink.io/v1alpha1\nkind: ArcPrivateLinkScope\nmetadata:\n  name: scope-{i}\nspec:\n  azure: {subscriptionId: 11111111-2222-3333-4444-555555555555, resourceGroup: rg-arc}\n  location: eastus\n";
const CONFIG_MAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: map-{i}\ndata:\n  key: value\n";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` appends `--bench`.
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .map(|s| s.parse())
        .collect::<Result<_, _>>()?;
    let counts = if counts.is_empty() {
        vec![10_000, 20_000, 40_000]
    } else {
        counts
    };
    let dir = std::env::temp_dir().join(format!("arclink-manifest-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    for n in counts {
        let scopes = time_load(&dir.join(format!("scopes-{n}.yaml")), &documents(SCOPE, n))?;
        // One scope, so that the file declares an arclink object.
        let others = format!("{}---\n{}", documents(SCOPE, 1), documents(CONFIG_MAP, n));
        let skipped = time_load(&dir.join(format!("others-{n}.yaml")), &others)?;
        println!("{n} documents: scopes {scopes:.2?}, other kinds {skipped:.2?}");
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn time_load(file: &Path, text: &str) -> Result<Duration, Box<dyn std::error::Error>> {
    std::fs::write(file, text)?;
    let started = Instant::now();
    manifest::load(&[file.to_path_buf()], None)
        .map_err(|e| format!("{} errors, first: {:?}", e.len(), e.first()))?;
    Ok(started.elapsed())
}

fn documents(template: &str, n: usize) -> String {
    (0..n)
        .map(|i| template.replace("{i}", &i.to_string()))
        .collect::<Vec<_>>()
        .join("---\n")
}
