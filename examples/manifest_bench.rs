//! Time to load one manifest file of many small documents (each a valid scope), to check that
//! loading stays linear in the number of documents.
//!
//! `cargo run --release --example manifest_bench -- [documents...]` (default 10000 20000 40000)
//!
//! On the 2-core development machine with other builds running, release build: before the
//! split documents were parsed without padding, 10k documents took 2.3 s, 20k 8.4 s and 40k
//! 33 s (quadratic); after, 10k 0.29 s, 20k 0.57 s and 40k 1.2 s.

use std::time::Instant;

use arclink::offline::manifest;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
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
        let file = dir.join(format!("{n}.yaml"));
        std::fs::write(&file, documents(n))?;
        let started = Instant::now();
        let loaded = manifest::load(std::slice::from_ref(&file), None)
            .map_err(|e| format!("{} errors, first: {:?}", e.len(), e.first()))?;
        println!(
            "{n} documents: {} objects in {:.2?}",
            loaded.objects.len(),
            started.elapsed()
        );
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn documents(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "apiVersion: arclink.io/v1alpha1\nkind: ArcPrivateLinkScope\nmetadata:\n  name: scope-{i}\nspec:\n  azure: {{subscriptionId: 11111111-2222-3333-4444-555555555555, resourceGroup: rg-arc}}\n  location: eastus\n"
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}
