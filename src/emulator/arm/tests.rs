use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::super::ids;
use super::*;

/// A raw path piece as a hostile client might send it (it may hold a `/` of its own).
fn hostile() -> impl Strategy<Value = String> {
    "(%2F|%2f|%5C|%2e%2e|\\.|%00|%FF|%20|[a-zA-Z0-9_.-]{1,8}|\\PC{0,8})"
}

/// Splits, checks and routes `path` as the server does; the id a resource route stores must
/// parse back to the same resource, so that no name splits into two.
fn route_path(path: &str) -> Result<(), TestCaseError> {
    let Ok(segs) = names::path_segments(path) else {
        return Ok(());
    };
    let _ = counted_type(&segs);
    if let Ok(Route::Resource {
        rid,
        kind,
        collection: false,
    }) = route(&segs)
    {
        let _ = names::check_resource(kind.name_rule, rid.name());
        prop_assert_eq!(ids::ResourceId::parse(&rid.to_id()), Some(rid));
    }
    Ok(())
}

#[test]
fn extension_paths_route_to_their_own_type_only_below_a_served_resource() {
    let segs = |p: &str| names::path_segments(p).unwrap();
    let base = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m";
    let ext = "providers/Microsoft.Insights/dataCollectionRuleAssociations";
    match route(&segs(&format!("{base}/{ext}/a"))) {
        Ok(Route::Resource {
            kind,
            rid,
            collection: false,
        }) => {
            assert!(kind.extension);
            assert_eq!(rid.extended().unwrap().to_id(), base);
        }
        _ => panic!("not routed"),
    }
    for refused in [
        format!("{base}/providers"),
        format!("{base}/providers/Microsoft.Insights"),
        format!("/subscriptions/s/resourceGroups/rg/{ext}/a"),
        format!(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/v/{ext}/a"
        ),
    ] {
        assert!(route(&segs(&refused)).is_err(), "{refused}");
    }
}

proptest! {
    #[test]
    fn resource_paths_with_hostile_names_route_without_panic(
        sub in hostile(),
        rg in hostile(),
        kind_index in 0..providers::KINDS.len(),
        resource_names in proptest::collection::vec(hostile(), 1..4),
    ) {
        let kind = &providers::KINDS[kind_index];
        let mut path = format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/{}", kind.namespace);
        for (t, n) in kind.types.iter().zip(&resource_names) {
            path.push_str(&format!("/{t}/{n}"));
        }
        route_path(&path)?;
    }

    #[test]
    fn any_path_routes_without_panic(
        parts in proptest::collection::vec(
            "(subscriptions|resourceGroups|providers|Microsoft\\.HybridCompute|Microsoft\\.Network|Microsoft\\.Insights|Microsoft\\.Management|managementGroups|machines|dataCollectionRuleAssociations|privateLinkScopes|privateEndpoints|privateDnsZones|A|locations|operationStatuses|operationResults|%2F|%2e%2e|%00|%FF|\\PC{0,8})",
            0..14,
        )
    ) {
        route_path(&format!("/{}", parts.join("/")))?;
    }
}
