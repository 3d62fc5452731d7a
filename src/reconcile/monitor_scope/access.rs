//! `spec.accessModes` and `spec.exclusions`: the scope's `properties.accessModeSettings`, each
//! mode a field of the scope. Both default modes are always written (Azure requires them on
//! every PUT); of the exclusions only the connections the spec lists are managed, the others
//! stay as Azure has them.

use crate::api::ArcMonitorPrivateLinkScopeSpec;
use crate::api::monitor_scope::{AccessMode, Exclusion};
use crate::azure::models::{
    AccessModeSettings, AccessModeSettingsExclusion, MonitorPrivateLinkScope,
    MonitorPrivateLinkScopeProperties,
};
use crate::reconcile::resource::Field;

type ScopeField = Field<MonitorPrivateLinkScopeProperties>;

/// Every managed property of the scope besides tags: a new one is one entry here.
pub fn fields(spec: &ArcMonitorPrivateLinkScopeSpec) -> Vec<ScopeField> {
    let modes = spec.access_modes;
    let mut fields = vec![
        Field::new(
            "properties.accessModeSettings.ingestionAccessMode",
            modes.ingestion.as_str(),
            |s: &MonitorPrivateLinkScope| settings_of(s)?.ingestion_access_mode.as_deref(),
            |s, v| settings(s).ingestion_access_mode = Some(v.to_string()),
        ),
        Field::new(
            "properties.accessModeSettings.queryAccessMode",
            modes.query.as_str(),
            |s: &MonitorPrivateLinkScope| settings_of(s)?.query_access_mode.as_deref(),
            |s, v| settings(s).query_access_mode = Some(v.to_string()),
        ),
    ];
    for e in &spec.exclusions {
        fields.extend(exclusion_field(e, Mode::Ingestion, e.ingestion));
        fields.extend(exclusion_field(e, Mode::Query, e.query));
    }
    fields
}

/// One of the two modes of an exclusion.
#[derive(Clone, Copy)]
enum Mode {
    Ingestion,
    Query,
}

impl Mode {
    fn key(self) -> &'static str {
        match self {
            Mode::Ingestion => "ingestionAccessMode",
            Mode::Query => "queryAccessMode",
        }
    }

    fn of(self, e: &AccessModeSettingsExclusion) -> Option<&str> {
        match self {
            Mode::Ingestion => e.ingestion_access_mode.as_deref(),
            Mode::Query => e.query_access_mode.as_deref(),
        }
    }

    fn set(self, e: &mut AccessModeSettingsExclusion, v: &str) {
        let slot = match self {
            Mode::Ingestion => &mut e.ingestion_access_mode,
            Mode::Query => &mut e.query_access_mode,
        };
        *slot = Some(v.to_string());
    }
}

/// A declared mode of an exclusion as a field, e.g.
/// `properties.accessModeSettings.exclusions[pe-hub].queryAccessMode`; `None` when the spec
/// leaves that mode to Azure.
fn exclusion_field(e: &Exclusion, mode: Mode, desired: Option<AccessMode>) -> Option<ScopeField> {
    let desired = desired?;
    let (read_name, write_name) = (
        e.private_endpoint_connection_name.clone(),
        e.private_endpoint_connection_name.clone(),
    );
    Some(Field::new(
        format!(
            "properties.accessModeSettings.exclusions[{}].{}",
            e.private_endpoint_connection_name,
            mode.key()
        ),
        desired.as_str(),
        move |s: &MonitorPrivateLinkScope| {
            let list = settings_of(s)?.exclusions.as_deref()?;
            mode.of(find(list, &read_name)?)
        },
        move |s, v| {
            let list = settings(s).exclusions.get_or_insert_with(Vec::new);
            match list.iter_mut().find(|x| named(x, &write_name)) {
                Some(x) => mode.set(x, v),
                None => {
                    let mut x = AccessModeSettingsExclusion {
                        private_endpoint_connection_name: Some(write_name.clone()),
                        ..Default::default()
                    };
                    mode.set(&mut x, v);
                    list.push(x);
                }
            }
        },
    ))
}

/// Connection names are compared as ARM compares names: without case.
fn named(x: &AccessModeSettingsExclusion, name: &str) -> bool {
    x.private_endpoint_connection_name
        .as_deref()
        .is_some_and(|n| n.eq_ignore_ascii_case(name))
}

fn find<'a>(
    list: &'a [AccessModeSettingsExclusion],
    name: &str,
) -> Option<&'a AccessModeSettingsExclusion> {
    list.iter().find(|x| named(x, name))
}

fn settings_of(s: &MonitorPrivateLinkScope) -> Option<&AccessModeSettings> {
    s.properties.as_ref()?.access_mode_settings.as_ref()
}

/// The scope's access mode settings in a body to write.
fn settings(s: &mut MonitorPrivateLinkScope) -> &mut AccessModeSettings {
    s.properties
        .get_or_insert_with(Default::default)
        .access_mode_settings
        .get_or_insert_with(Default::default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::monitor_scope::AccessModes;

    fn spec(exclusions: Vec<Exclusion>) -> ArcMonitorPrivateLinkScopeSpec {
        ArcMonitorPrivateLinkScopeSpec {
            access_modes: AccessModes {
                ingestion: AccessMode::PrivateOnly,
                query: AccessMode::Open,
            },
            exclusions,
            ..Default::default()
        }
    }

    fn written(
        spec: &ArcMonitorPrivateLinkScopeSpec,
        actual: MonitorPrivateLinkScope,
    ) -> MonitorPrivateLinkScope {
        let mut body = actual;
        for f in fields(spec) {
            f.apply(&mut body);
        }
        body
    }

    #[test]
    fn both_modes_are_written_and_undeclared_exclusions_are_carried_back() {
        let theirs = AccessModeSettingsExclusion {
            private_endpoint_connection_name: Some("theirs".into()),
            query_access_mode: Some("PrivateOnly".into()),
            ..Default::default()
        };
        let actual = MonitorPrivateLinkScope {
            properties: Some(MonitorPrivateLinkScopeProperties {
                access_mode_settings: Some(AccessModeSettings {
                    exclusions: Some(vec![theirs.clone()]),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let s = spec(vec![Exclusion {
            private_endpoint_connection_name: "pe-hub".into(),
            query: Some(AccessMode::PrivateOnly),
            ingestion: None,
        }]);
        let drift: Vec<String> = fields(&s)
            .iter()
            .filter_map(|f| f.difference(&actual))
            .map(|d| d.path)
            .collect();
        assert_eq!(
            drift,
            [
                "properties.accessModeSettings.ingestionAccessMode",
                "properties.accessModeSettings.queryAccessMode",
                "properties.accessModeSettings.exclusions[pe-hub].queryAccessMode"
            ]
        );
        let body = written(&s, actual);
        let settings = settings_of(&body).unwrap();
        assert_eq!(
            settings.ingestion_access_mode.as_deref(),
            Some("PrivateOnly")
        );
        assert_eq!(settings.query_access_mode.as_deref(), Some("Open"));
        let exclusions = settings.exclusions.as_deref().unwrap();
        assert_eq!(exclusions[0], theirs);
        assert_eq!(
            exclusions[1].private_endpoint_connection_name.as_deref(),
            Some("pe-hub")
        );
        assert_eq!(
            exclusions[1].query_access_mode.as_deref(),
            Some("PrivateOnly")
        );
        assert_eq!(exclusions[1].ingestion_access_mode, None, "left to Azure");
        assert!(fields(&s).iter().all(|f| f.difference(&body).is_none()));
    }
}
