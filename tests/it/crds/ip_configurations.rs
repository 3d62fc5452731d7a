//! ArcPrivateEndpoint's `ipConfigurations` and `networkInterfaceName`: shapes, one address per
//! member, both immutable.

use serde_json::{Value, json};

use super::{accepted, endpoint, errors, rejected, rejected_update, with};

fn configs() -> Value {
    json!([
        {"memberName": "HybridCompute.Server", "privateIPAddress": "10.1.2.10"},
        {"memberName": "HybridCompute.K8sConfiguration", "privateIPAddress": "10.1.2.11"},
        {"memberName": "GuestConfig.DP", "privateIPAddress": "10.1.2.12"}
    ])
}

#[test]
fn static_addresses_and_the_interface_name_are_checked_and_immutable() {
    let old = with(
        with(endpoint(), "/spec/ipConfigurations", configs()),
        "/spec/networkInterfaceName",
        json!("hub-arc-pe-nic"),
    );
    accepted(&old);
    for bad in ["10.1.2", "10.1.2.256", "010.1.2.1", "fe80::1"] {
        let mut c = configs();
        c[0]["privateIPAddress"] = json!(bad);
        rejected(
            &with(old.clone(), "/spec/ipConfigurations", c),
            "spec.ipConfigurations[0].privateIPAddress",
        );
    }
    let mut twice = configs();
    twice[1]["memberName"] = json!("hybridcompute.server");
    rejected(
        &with(old.clone(), "/spec/ipConfigurations", twice),
        "names a member twice",
    );
    rejected(
        &with(old.clone(), "/spec/networkInterfaceName", json!("-nic")),
        "spec.networkInterfaceName",
    );

    let mut moved = configs();
    moved[2]["privateIPAddress"] = json!("10.1.2.13");
    rejected_update(
        &with(old.clone(), "/spec/ipConfigurations", moved),
        Some(&old),
        "spec.ipConfigurations is immutable",
    );
    rejected_update(
        &with(old.clone(), "/spec/ipConfigurations", Value::Null),
        Some(&old),
        "spec.ipConfigurations is immutable",
    );
    rejected_update(
        &old,
        Some(&endpoint()),
        "spec.ipConfigurations is immutable",
    );
    rejected_update(
        &with(
            old.clone(),
            "/spec/networkInterfaceName",
            json!("other-nic"),
        ),
        Some(&old),
        "spec.networkInterfaceName is immutable",
    );
    assert_eq!(errors(&old, Some(&old)), Vec::<String>::new());
}
