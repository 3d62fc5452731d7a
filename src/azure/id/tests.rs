use super::*;
use proptest::prelude::*;
use std::collections::HashSet;

const SCOPE_CONN: &str = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/myResourceGroup/providers/Microsoft.HybridCompute/privateLinkScopes/myScope/privateEndpointConnections/conn1";

#[test]
fn management_group_extension_ids_have_no_subscription() {
    let text = "/providers/Microsoft.Management/managementGroups/root/providers/Microsoft.Authorization/privateLinkAssociations/1d6c0f5c-7e0a-4b0e-9c1e-3f0b5c1a2d3e";
    let id = ResourceId::parse(text).unwrap();
    assert_eq!(id.to_string(), text);
    assert_eq!(id.subscription(), "");
    assert_eq!(id.management_group(), Some("root"));
    assert_eq!(id.resource_group(), None);
    assert_eq!(id.provider(), Some("Microsoft.Authorization"));
    assert_eq!(
        id.resource_type(),
        "Microsoft.Authorization/privateLinkAssociations"
    );
    let group = id.parent().unwrap();
    assert_eq!(group, ResourceId::management_group_id("ROOT"));
    assert_eq!(
        group.resource_type(),
        "Microsoft.Management/managementGroups"
    );
    assert_eq!(group.parent(), None);
    assert_eq!(
        group.child("Microsoft.Authorization/privateLinkAssociations", id.name()),
        id
    );
    assert!(ResourceId::parse("/providers/Microsoft.Management/managementGroups").is_err());
    assert!(ResourceId::parse("/providers/Microsoft.Management/managementGroups/g/x/y").is_err());
    assert!(ResourceId::parse("/providers/Microsoft.Network/virtualNetworks/v").is_err());
}

#[test]
fn parses_nested_ids() {
    let id = ResourceId::parse(SCOPE_CONN).unwrap();
    assert_eq!(id.subscription(), "00000000-1111-2222-3333-444444444444");
    assert_eq!(id.resource_group(), Some("myResourceGroup"));
    assert_eq!(id.provider(), Some("Microsoft.HybridCompute"));
    assert_eq!(
        id.resource_type(),
        "Microsoft.HybridCompute/privateLinkScopes/privateEndpointConnections"
    );
    assert_eq!(id.name(), "conn1");
    let scope = id.parent().unwrap();
    assert_eq!(scope.name(), "myScope");
    assert_eq!(
        scope.resource_type(),
        "Microsoft.HybridCompute/privateLinkScopes"
    );
    let rg = scope.parent().unwrap();
    assert_eq!(
        rg.to_string(),
        "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/myResourceGroup"
    );
    assert_eq!(rg.resource_type(), "Microsoft.Resources/resourceGroups");
    let sub = rg.parent().unwrap();
    assert_eq!(sub.resource_group(), None);
    assert_eq!(sub.name(), "00000000-1111-2222-3333-444444444444");
    assert!(sub.parent().is_none());
}

#[test]
fn subnet_and_record_set() {
    let subnet = ResourceId::resource("s", "rg", "Microsoft.Network", "virtualNetworks", "v")
        .child("subnets", "default");
    assert_eq!(
        subnet.to_string(),
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/default"
    );
    assert_eq!(
        subnet.resource_type(),
        "Microsoft.Network/virtualNetworks/subnets"
    );
    let rg = ResourceId::resource_group_id("s", "rg");
    let zone = rg.child(
        "Microsoft.Network/privateDnsZones",
        "privatelink.his.arc.azure.com",
    );
    assert_eq!(zone.provider(), Some("Microsoft.Network"));
    assert_eq!(zone.name(), "privatelink.his.arc.azure.com");
    let a = zone.child("A", "gbl");
    assert_eq!(a.resource_type(), "Microsoft.Network/privateDnsZones/A");
    assert_eq!(a.parent().unwrap(), zone);
}

#[test]
fn compares_case_insensitively_and_keeps_casing() {
    let a = ResourceId::parse(SCOPE_CONN).unwrap();
    let lower = SCOPE_CONN.to_lowercase();
    let b = ResourceId::parse(&lower).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.to_string(), SCOPE_CONN);
    assert_eq!(b.to_string(), lower);
    let set: HashSet<_> = [a, b].into_iter().collect();
    assert_eq!(set.len(), 1);
    let other = ResourceId::parse(&SCOPE_CONN.replace("conn1", "conn2")).unwrap();
    assert_ne!(ResourceId::parse(SCOPE_CONN).unwrap(), other);
}

#[test]
fn serde_as_string() {
    let id = ResourceId::parse(SCOPE_CONN).unwrap();
    let json = serde_json::to_string(&id).unwrap();
    assert_eq!(json, format!("\"{SCOPE_CONN}\""));
    let back: ResourceId = serde_json::from_str(&json).unwrap();
    assert_eq!(back, id);
    assert!(serde_json::from_str::<ResourceId>("\"/nope\"").is_err());
}

#[test]
fn errors_say_what_and_where() {
    let cases: &[(&str, IdErrorReason)] = &[
        ("", IdErrorReason::Empty),
        ("subscriptions/s", IdErrorReason::MissingSubscriptions),
        ("/tenants/t", IdErrorReason::MissingSubscriptions),
        (
            "/subscriptions",
            IdErrorReason::MissingValue {
                keyword: SUBSCRIPTIONS,
                position: 0,
            },
        ),
        (
            "/subscriptions/s//x",
            IdErrorReason::EmptySegment { position: 2 },
        ),
        (
            "/subscriptions/s/resourceGroups",
            IdErrorReason::MissingValue {
                keyword: RESOURCE_GROUPS,
                position: 2,
            },
        ),
        (
            "/subscriptions/s/resourceGroups/rg/virtualNetworks/v",
            IdErrorReason::UnexpectedSegment {
                position: 4,
                found: "virtualNetworks".into(),
            },
        ),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network",
            IdErrorReason::MissingValue {
                keyword: PROVIDERS,
                position: 5,
            },
        ),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks",
            IdErrorReason::TypeWithoutName {
                type_: "virtualNetworks".into(),
                position: 6,
            },
        ),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/..",
            IdErrorReason::PathStep {
                position: 7,
                segment: "..".into(),
            },
        ),
        (
            "/subscriptions/s/resourceGroups/./providers/Microsoft.Network/networkSecurityGroups/n",
            IdErrorReason::PathStep {
                position: 3,
                segment: ".".into(),
            },
        ),
        (
            "/subscriptions/s/resourceGroups/rg?x=1",
            IdErrorReason::InvalidCharacter {
                position: 3,
                character: '?',
            },
        ),
    ];
    for (input, reason) in cases {
        let err = ResourceId::parse(input).unwrap_err();
        assert_eq!(&err.reason, reason, "input {input:?}");
        assert!(err.to_string().contains(input), "{err}");
    }
}

#[test]
fn collection_paths() {
    let rg = ResourceId::resource_group_id("s", "rg");
    let machines = CollectionId::new(&rg, "Microsoft.HybridCompute/machines");
    assert_eq!(
        machines.to_string(),
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines"
    );
    assert_eq!(machines.provider(), "Microsoft.HybridCompute");
    let scope = rg.child("Microsoft.HybridCompute/privateLinkScopes", "sc");
    let conns = CollectionId::new(&scope, "privateEndpointConnections");
    assert_eq!(
        conns.to_string(),
        format!("{scope}/privateEndpointConnections")
    );
    assert_eq!(
        conns.resource_type(),
        "Microsoft.HybridCompute/privateLinkScopes/privateEndpointConnections"
    );
}

fn segment() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9._() -]{0,12}"
}

proptest! {
    #[test]
    fn parse_never_panics(s in "\\PC{0,80}") {
        let _ = ResourceId::parse(&s);
    }

    #[test]
    fn slashy_input_never_panics(parts in proptest::collection::vec("(subscriptions|resourceGroups|providers|x|)", 0..10)) {
        let _ = ResourceId::parse(&format!("/{}", parts.join("/")));
    }

    /// No id that parses has a path step for a segment: the URL of an id names that id.
    #[test]
    fn parsed_ids_have_no_path_steps(
        parts in proptest::collection::vec(
            "(subscriptions|resourceGroups|providers|Microsoft\\.Network|networkSecurityGroups|\\.|\\.\\.|x|\\.x)",
            0..12,
        ),
    ) {
        if let Ok(id) = ResourceId::parse(&format!("/{}", parts.join("/"))) {
            prop_assert!(id.segments().all(|s| s != "." && s != ".."), "{}", id);
        }
    }

    /// Whatever parses survives every accessor, prints back to an equal id and has a parent
    /// chain that ends.
    #[test]
    fn parsed_ids_survive_every_accessor(
        parts in proptest::collection::vec(
            "(subscriptions|SUBSCRIPTIONS|resourceGroups|providers|Microsoft\\.Network|privateDnsZones|A|x|\\PC{0,6})",
            0..14,
        ),
        trailing in any::<bool>(),
    ) {
        let text = format!("/{}{}", parts.join("/"), if trailing { "/" } else { "" });
        let Ok(id) = ResourceId::parse(&text) else {
            return Ok(());
        };
        let _ = (id.subscription(), id.resource_group(), id.provider(), id.name());
        let _ = id.resource_type();
        let collection = CollectionId::new(&id, "children/grandChildren");
        let _ = (collection.to_string(), collection.resource_type());
        prop_assert_eq!(&ResourceId::parse(&id.to_string()).unwrap(), &id);
        let mut depth = 0;
        let mut cur = id.parent();
        while let Some(p) = cur {
            depth += 1;
            prop_assert!(depth <= parts.len(), "parent chain of {} does not end", text);
            cur = p.parent();
        }
    }

    #[test]
    fn round_trips(sub in segment(), rg in segment(), ns in "[A-Za-z]{1,8}\\.[A-Za-z]{1,8}",
                   pairs in proptest::collection::vec((segment(), segment()), 1..4)) {
        let mut id = ResourceId::resource(&sub, &rg, &ns, &pairs[0].0, &pairs[0].1);
        for (t, n) in &pairs[1..] {
            id = id.child(t, n);
        }
        let text = id.to_string();
        let parsed = ResourceId::parse(&text).unwrap();
        prop_assert_eq!(&parsed, &id);
        prop_assert_eq!(parsed.to_string(), text.clone());
        let upper = ResourceId::parse(&text.to_uppercase()).unwrap();
        prop_assert_eq!(&upper, &id);
        prop_assert_eq!(parsed.name(), pairs.last().unwrap().1.as_str());
        prop_assert_eq!(parsed.subscription(), sub.as_str());
        prop_assert_eq!(parsed.resource_group(), Some(rg.as_str()));
        let mut depth = 0;
        let mut cur = Some(parsed);
        while let Some(c) = cur { depth += 1; cur = c.parent(); }
        prop_assert_eq!(depth, pairs.len() + 2);
    }
}
