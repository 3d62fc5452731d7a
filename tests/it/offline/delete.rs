//! `arclink delete` and `plan --delete` against the embedded emulator (issue 22 item 10): what
//! `apply` created goes, machines are detached, nothing else is touched; a resource the object
//! does not own stays and is reported; `Orphan` leaves resources without arclink's marks;
//! `plan --delete` writes nothing.

use serde_json::{Map, Value};

use crate::common::fixtures::scope_id;
use crate::common::sandbox::{Sandbox, golden, root};

const EXAMPLES: &str = "deploy/examples/";

/// The machine's scope, if it has one.
fn scope_of(machine: &Value) -> Option<&str> {
    machine["properties"]["privateLinkScopeResourceId"]
        .as_str()
        .filter(|s| !s.is_empty())
}

fn ids(resources: &Map<String, Value>) -> Vec<&String> {
    resources.keys().collect()
}

/// What the emulator holds once `plan` has seeded it, then after `apply -f deploy/examples/`.
fn applied(sb: &Sandbox) -> (Map<String, Value>, Map<String, Value>) {
    sb.arclink(&["plan", "-f", EXAMPLES]).exited(2);
    let seeded = sb.resources();
    sb.arclink(&["apply", "-f", EXAMPLES]).exited(0);
    (seeded, sb.resources())
}

#[test]
fn delete_removes_what_apply_created_detaches_the_machines_and_touches_nothing_else() {
    let sb = Sandbox::new("delete");
    let (seeded, created) = applied(&sb);
    assert!(created.len() > seeded.len() + 8, "{:?}", ids(&created));

    let preview = sb.arclink(&["plan", "--delete", "-f", EXAMPLES]);
    preview.exited(2);
    golden("plan-delete.txt", &preview.stdout);
    let json = sb.arclink(&["plan", "--delete", "-f", EXAMPLES, "-o", "json"]);
    json.exited(2);
    golden("plan-delete.json", &json.stdout);
    let plan: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(plan["delete"], true);
    // The scope, the five endpoints (Arc, Key Vault, blob, Azure Monitor, resource
    // management), the resource management link, the Azure Monitor scope and the association
    // (it removes its machines' endpoint associations and detaches them).
    assert_eq!(plan["summary"]["delete"], 9, "{plan:#}");
    assert_eq!(plan["summary"]["update"], 0, "{plan:#}");
    assert_eq!(sb.resources(), created, "plan --delete must not write");

    let deleted = sb.arclink(&["delete", "-f", EXAMPLES]);
    deleted.exited(0).stderr(|e| {
        [
            "ArcServerAssociation default/web-servers: ✓",
            "ArcPrivateEndpoint default/hub-arc-pe: ✓",
            "ArcPrivateEndpoint default/hub-blob-pe: ✓",
            "ArcPrivateEndpoint default/hub-keyvault-pe: ✓",
            "ArcPrivateEndpoint default/hub-monitor-pe: ✓",
            "ArcPrivateEndpoint default/hub-management-pe: ✓",
            "ArcMonitorPrivateLinkScope default/arc-monitor: ✓",
            "ArcPrivateLinkScope default/arc-scope: ✓",
            "ArcResourceManagementPrivateLink default/arm-link: ✓",
        ]
        .iter()
        .all(|line| e.contains(line))
    });
    golden("delete.txt", &deleted.stdout);
    let after = sb.resources();
    assert_eq!(
        ids(&after),
        ids(&seeded),
        "everything arclink created is gone"
    );
    for (id, was) in &seeded {
        let now = &after[id];
        if id.contains("/machines/") {
            assert_eq!(scope_of(now), None, "{id} is still associated");
            assert_eq!(now["tags"], was["tags"], "{id}");
        } else {
            assert_eq!(now, was, "{id} was touched");
        }
    }

    // Nothing of theirs is left: a second delete writes nothing and succeeds.
    sb.arclink(&["delete", "-f", EXAMPLES])
        .exited(0)
        .stdout(|o| o.starts_with("Delete: 0 deleted, 0 updated; 9 of 9 objects done."));
    assert_eq!(sb.resources(), after);
    sb.arclink(&["plan", "--delete", "-f", EXAMPLES])
        .exited(0)
        .stdout(|o| o.contains("Plan: 0 to create, 0 to update, 0 to delete, 9 unchanged."));
}

#[test]
fn a_scope_not_owned_by_its_object_is_left_and_reported() {
    let sb = Sandbox::new("delete-not-owned");
    applied(&sb);
    let scope = scope_id("arc-scope");
    sb.edit(&scope, |s| {
        s["tags"]["arclink-owner"] = "other-cluster/default/ArcPrivateLinkScope/arc-scope".into();
    });
    let json = sb.arclink(&["delete", "-f", EXAMPLES, "-o", "json"]);
    json.exited(0);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    let objects = report["objects"].as_array().unwrap();
    let kinds: Vec<&str> = objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "ArcServerAssociation",
            "ArcPrivateEndpoint",
            "ArcPrivateEndpoint",
            "ArcPrivateEndpoint",
            "ArcPrivateEndpoint",
            "ArcPrivateEndpoint",
            "ArcResourceManagementPrivateLink",
            "ArcMonitorPrivateLinkScope",
            "ArcPrivateLinkScope"
        ],
        "reverse dependency order"
    );
    assert!(objects.iter().all(|o| o["result"] == "done"), "{report:#}");
    let left = &objects[8];
    assert_eq!(left["changes"], Value::Array(Vec::new()), "{report:#}");
    assert!(
        left["message"]
            .as_str()
            .is_some_and(|m| m.contains("left in Azure") && m.contains("not owned by this object")),
        "{report:#}"
    );
    let after = sb.resources();
    assert!(
        after.contains_key(&scope.to_ascii_lowercase()),
        "the scope stays"
    );
    assert!(
        !after.keys().any(|k| k.contains("privateendpoints")),
        "{:?}",
        ids(&after)
    );
}

/// The examples with every deletion policy set to `Orphan`.
fn orphaned_examples(sb: &Sandbox) -> Vec<String> {
    let read = |f: &str| std::fs::read_to_string(root().join(EXAMPLES).join(f)).unwrap();
    let scope = read("01-scope.yaml").replace("deletion: Delete", "deletion: Orphan");
    let endpoint = read("02-endpoint.yaml") + "  policy:\n    deletion: Orphan\n";
    let association = read("03-association.yaml").replace("deletion: Detach", "deletion: Orphan");
    assert!(scope.contains("deletion: Orphan") && association.contains("deletion: Orphan"));
    vec![
        sb.write("01.yaml", &scope),
        sb.write("02.yaml", &endpoint),
        sb.write("03.yaml", &association),
    ]
}

#[test]
fn orphan_leaves_the_resources_without_arclinks_marks() {
    let sb = Sandbox::new("delete-orphan");
    let files = orphaned_examples(&sb);
    let mut args = vec!["apply", "-f"];
    args.extend(files.iter().map(String::as_str));
    sb.arclink(&args).exited(0);
    let created = sb.resources();
    let marked = |r: &Value| {
        r["tags"].get("arclink-owner").is_some()
            || r["tags"].get("managed-by").is_some()
            || r["properties"]["description"]
                .as_str()
                .is_some_and(|d| d.starts_with("managed by arclink"))
    };
    assert!(created.values().filter(|r| marked(r)).count() >= 10);

    args[0] = "delete";
    args.extend(["-o", "json"]);
    let json = sb.arclink(&args);
    json.exited(0);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    for o in report["objects"].as_array().unwrap() {
        assert_eq!(o["result"], "done", "{o:#}");
        for c in o["changes"].as_array().unwrap() {
            assert_eq!(c["action"], "update", "Orphan deletes nothing: {c:#}");
        }
    }
    let after = sb.resources();
    assert_eq!(ids(&after), ids(&created), "everything stays");
    let still: Vec<&String> = after
        .iter()
        .filter(|(_, r)| marked(r))
        .map(|(id, _)| id)
        .collect();
    assert_eq!(still, Vec::<&String>::new(), "arclink's marks are gone");
    for name in ["web-01", "web-02"] {
        let machine = after
            .iter()
            .find(|(id, _)| id.ends_with(&format!("/machines/{name}")))
            .map(|(_, m)| m)
            .unwrap();
        assert!(scope_of(machine).is_some(), "{name} stays associated");
    }
}

#[test]
fn delete_honours_timeout_and_output_and_refuses_bad_manifests() {
    let sb = Sandbox::new("delete-flags");
    applied(&sb);
    let created = sb.resources();
    sb.arclink(&["delete", "-f", EXAMPLES, "--timeout", "1ns"])
        .exited(1)
        .stdout(|o| o.contains("timed-out") && o.contains("0 of 9 objects done"));
    assert_eq!(sb.resources(), created, "nothing was attempted");

    let bad = sb.write(
        "bad.yaml",
        &std::fs::read_to_string(root().join(EXAMPLES).join("01-scope.yaml"))
            .unwrap()
            .replace("resourceGroup: rg-arc", "resourceGroup: '..'"),
    );
    sb.arclink(&["delete", "-f", &bad]).exited(1).stderr(|e| {
        e.contains("spec.azure.resourceGroup")
            && e.contains("nothing was read from or written to Azure")
    });
    let json = sb.arclink(&["delete", "-f", &bad, "-o", "json"]);
    json.exited(1);
    let errors: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(errors["errors"][0]["field"], "spec.azure.resourceGroup");
    assert_eq!(sb.resources(), created);
}

mod in_process {
    use std::time::Duration;

    use arclink::emulator::Fault;
    use arclink::offline::apply::{self, Limits};
    use arclink::offline::delete::{self, Result as Deleted};
    use arclink::reconcile::Settings;

    use super::super::examples;

    const LIMITS: Limits = Limits {
        timeout: Duration::from_secs(60),
        poll: Duration::from_millis(50),
    };

    /// Deletions are long-running operations followed to their end; an endpoint that ARM
    /// refuses to delete (a lock) is blocked with ARM's code, and its scope is left rather than
    /// deleted under it.
    #[tokio::test]
    async fn a_refused_endpoint_deletion_keeps_its_scope() {
        let (emu, arm) = super::super::emulator(Duration::from_millis(300)).await;
        let settings = Settings::new("default");
        let applied = apply::apply(&arm, &settings, examples(), true, LIMITS).await;
        assert_eq!(
            applied.exit(),
            arclink::offline::Exit::Clean,
            "{applied:#?}"
        );
        emu.admin().inject(
            Fault::status(409)
                .code("ScopeLocked")
                .message("The scope is locked.")
                .method("DELETE")
                .path_contains("/privateEndpoints/hub-arc-pe"),
        );
        let report = delete::delete(&arm, &settings, examples(), true, LIMITS).await;
        let results: Vec<(&str, Deleted)> = report
            .objects
            .iter()
            .map(|o| (o.kind.as_str(), o.result))
            .collect();
        assert_eq!(
            results,
            [
                ("ArcServerAssociation", Deleted::Done),
                ("ArcPrivateEndpoint", Deleted::Blocked),
                ("ArcMonitorPrivateLinkScope", Deleted::Done),
                ("ArcPrivateLinkScope", Deleted::Blocked),
            ],
            "{report:#?}"
        );
        let endpoint = &report.objects[1];
        assert_eq!(
            endpoint.reason.as_deref(),
            Some("ScopeLocked"),
            "{endpoint:#?}"
        );
        let scope = &report.objects[3];
        assert_eq!(scope.reason.as_deref(), Some("DependentNotDeleted"));
        assert!(scope.changes.is_empty());
        assert_eq!(report.exit(), arclink::offline::Exit::Errors);
        assert!(
            emu.admin()
                .get(&crate::common::fixtures::scope_id("arc-scope"))
                .is_some(),
            "the scope stays"
        );

        // The lock lifted, a second run finishes the job.
        emu.admin().clear_faults();
        let again = delete::delete(&arm, &settings, examples(), true, LIMITS).await;
        assert_eq!(again.exit(), arclink::offline::Exit::Clean, "{again:#?}");
        assert!(
            emu.admin()
                .get(&crate::common::fixtures::scope_id("arc-scope"))
                .is_none()
        );
        emu.shutdown().await.unwrap();
    }
}
