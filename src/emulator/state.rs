//! The resource store: every resource as a GET returns it, keyed by lower-cased id in one ordered
//! map, so that a resource's children and a resource group's members are contiguous key ranges
//! (lists page through a range without copying the group).

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use serde_json::Value;

pub type Map = BTreeMap<String, Arc<Value>>;

#[derive(Default)]
pub struct Store {
    resources: RwLock<Map>,
    dirty: AtomicBool,
}

impl Store {
    pub fn read(&self) -> RwLockReadGuard<'_, Map> {
        self.resources.read()
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, Map> {
        self.dirty.store(true, Ordering::Relaxed);
        self.resources.write()
    }

    pub fn get(&self, key: &str) -> Option<Arc<Value>> {
        self.resources.read().get(key).cloned()
    }

    /// Returns whether anything changed since the last call (for the state file writer).
    pub fn take_dirty(&self) -> bool {
        self.dirty.swap(false, Ordering::Relaxed)
    }

    pub fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::Relaxed);
    }
}

/// Keys of `map` that start with `prefix` and come after `after` (exclusive), in order.
pub fn range_after<'a>(
    map: &'a Map,
    prefix: &'a str,
    after: Option<&'a str>,
) -> impl Iterator<Item = (&'a String, &'a Arc<Value>)> + 'a {
    let lower = match after {
        Some(a) if a > prefix => Bound::Excluded(a.to_string()),
        _ => Bound::Included(prefix.to_string()),
    };
    map.range::<String, _>((lower, Bound::Unbounded))
        .take_while(move |(k, _)| k.starts_with(prefix))
}

/// Direct children of `parent_key` of one child type (`parent/type/name`, nothing deeper).
pub fn children<'a>(
    map: &'a Map,
    parent_key: &str,
    child_type: &str,
) -> impl Iterator<Item = (&'a String, &'a Arc<Value>)> + 'a {
    let prefix = format!("{parent_key}/{}/", child_type.to_ascii_lowercase());
    let plen = prefix.len();
    map.range::<String, _>((Bound::Included(prefix.clone()), Bound::Unbounded))
        .take_while(move |(k, _)| k.starts_with(&prefix))
        .filter(move |(k, _)| !k[plen..].contains('/'))
}

/// Removes `key` and everything below it.
pub fn remove_tree(map: &mut Map, key: &str) {
    map.remove(key);
    let prefix = format!("{key}/");
    let doomed: Vec<String> = map
        .range::<String, _>((Bound::Included(prefix.clone()), Bound::Unbounded))
        .take_while(|(k, _)| k.starts_with(&prefix))
        .map(|(k, _)| k.clone())
        .collect();
    for k in doomed {
        map.remove(&k);
    }
}
