//! Where an association's listing of its resource group stands between passes.
//!
//! A pass that has spent its write budget (or its time) stops listing there; the next pass
//! continues from the same `nextLink`, with the machines it had read but not written, instead
//! of listing the group again. Converging N machines therefore reads each list page about once
//! (ceil(N / page) reads, plus at most one scope GET per listing), where listing from the first
//! page on every pass read N² / (page × batch) pages. In steady state a listing that fits in one
//! pass is one pass, as before.
//!
//! A listing whose first page was read a drift interval ago or more is not continued: the next
//! pass lists from the first page again, so that a machine changed out of band behind the
//! listing is still seen within one interval. A listing that took several passes is due again
//! one interval after its first page (not after its last).
//!
//! Where it is kept: in memory, in [`Sweeps`] (the association's [`Managed::State`]: the
//! controller and `arclink apply` keep one for every association they reconcile). Nothing of
//! it is in the object's status on purpose: ARM's `nextLink`s carry opaque skip tokens that may
//! expire, a cursor in status would make every pass a status write (and a watch event for
//! everyone watching), and losing it costs little: after a controller restart, a new leader or
//! an eviction from the bounded map, the next pass lists from the first page again, which is at
//! most one more listing (ceil(N / page) reads) and never a wrong write, since every decision
//! is made on what that listing returns. The object's status still holds what readers need
//! (the summary and conditions of the last complete listing).

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::api::ArcServerAssociation;
use crate::azure::{ArmClient, ArmError, CollectionId, Listing, ResourceId};
use crate::reconcile::scope_ref::ResolvedScope;

use super::monitor::Monitor;
use super::select::{Claim, MachineRef};
use super::tally::Tally;
use super::writes::{Finished, Writer};

#[cfg(doc)]
use crate::reconcile::engine::Managed;

/// Entries kept at most; the least recently used goes first (it then lists from the first page
/// on its next pass). An entry holds a few hundred bytes plus, in the middle of a listing, at
/// most the rest of one page and one pass's writes to retry, and a tally of at most
/// [`super::MAX_LISTED`] machines.
pub const MAX_SWEEPS: usize = 4096;

/// The listings in progress, by object (`namespace/name`). Cheap to clone: clones share the
/// entries, so one is created per controller (or `apply` run) and every pass sees it.
#[derive(Clone, Default)]
pub struct Sweeps {
    inner: Arc<Mutex<HashMap<String, Held>>>,
}

impl std::fmt::Debug for Sweeps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sweeps")
            .field("entries", &self.len())
            .finish()
    }
}

struct Held {
    used: Instant,
    entry: Entry,
}

/// What a pass of one object left for the next.
#[derive(Debug)]
pub enum Entry {
    // Boxed: the map moves entries in and out on every pass.
    Converge(Box<Sweep>),
    Detach(Box<Detaching>),
}

impl Sweeps {
    /// Takes the entry of `key` out: the pass owns it until it puts it back (the controller
    /// never runs two passes of one object at once; should that happen, the second lists from
    /// the first page).
    pub fn take(&self, key: &str) -> Option<Entry> {
        self.lock().remove(key).map(|h| h.entry)
    }

    /// Stores the entry of `key`, evicting the least recently used one when full.
    pub fn put(&self, key: String, entry: Entry) {
        let mut map = self.lock();
        if map.len() >= MAX_SWEEPS
            && !map.contains_key(&key)
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, h)| h.used)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        let used = Instant::now();
        map.insert(key, Held { used, entry });
    }

    /// Drops what is kept for `key` (the object is gone).
    pub fn forget(&self, key: &str) {
        self.lock().remove(key);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        // Entries are only moved in and out whole, so a panicking holder cannot have left the
        // map half-changed.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A listing that may span passes: the next page to read and the machines read but not handled
/// yet (the rest of a page once the budget ran out, and writes to retry).
#[derive(Debug, Default)]
pub struct Cursor {
    /// The next page, and the listing's bounds (a provider whose `nextLink` leads back to an
    /// earlier page, or that never stops handing out new ones, fails the listing).
    listing: Listing,
    /// When the first page was read.
    started: Option<Instant>,
    /// Machines read but not handled for want of budget: at most the rest of one page (a pass
    /// reads no page while machines are queued).
    queue: VecDeque<MachineRef>,
    /// Machines whose PATCH failed in a way worth retrying, and why: at most one pass's writes.
    retries: Vec<(MachineRef, String)>,
}

impl Cursor {
    /// Whether the listing is over and every machine it read was handled.
    pub fn is_done(&self) -> bool {
        self.listing.is_over() && self.queue.is_empty() && self.retries.is_empty()
    }

    /// Whether a page remains to be read and every machine read so far was handled (machines
    /// left in the queue mean the pass has no budget for more).
    pub fn wants_page(&self) -> bool {
        !self.listing.is_over() && self.queue.is_empty()
    }

    /// Whether the next page is one a `nextLink` of an earlier page points at.
    pub fn at_link(&self) -> bool {
        self.listing.at_link()
    }

    /// Whether the listing failed for crossing its bounds (see [`Listing::overran`]).
    pub fn overran(&self) -> bool {
        self.listing.overran()
    }

    /// Takes the machines earlier passes left: the queue, then the writes to retry.
    pub fn take_left(&mut self) -> Vec<MachineRef> {
        let retries = self.retries.drain(..).map(|(m, _)| m);
        self.queue.drain(..).chain(retries).collect()
    }

    /// Keeps `machine` for the next pass (no budget left in this one).
    pub fn defer(&mut self, machine: MachineRef) {
        self.queue.push_back(machine);
    }

    /// Keeps `machine` to write again on the next pass.
    pub fn retry(&mut self, machine: MachineRef, why: String) {
        self.retries.push((machine, why));
    }

    /// The machines left for the next pass, and why.
    pub fn left(&self) -> impl Iterator<Item = (&MachineRef, &str)> {
        self.queue
            .iter()
            .map(|m| (m, "queued for the next batch"))
            .chain(self.retries.iter().map(|(m, why)| (m, why.as_str())))
    }

    pub fn left_count(&self) -> usize {
        self.queue.len() + self.retries.len()
    }

    /// How long ago the first page was read (zero before it is).
    pub fn age(&self) -> Duration {
        self.started.map(|s| s.elapsed()).unwrap_or_default()
    }

    /// Whether the first page was read before `instant`.
    pub fn began_before(&self, instant: Instant) -> bool {
        self.started.is_some_and(|s| s < instant)
    }

    /// Reads the next page and moves past it.
    pub async fn next_page(
        &mut self,
        arm: &ArmClient,
        collection: &CollectionId,
    ) -> Result<Vec<MachineRef>, ArmError> {
        self.started.get_or_insert_with(Instant::now);
        self.listing.next_page(arm, collection).await
    }
}

/// One pass over a listing ([`drive`]): what it does with the machines, and its writes.
pub trait Visit: Send {
    fn cursor(&mut self) -> &mut Cursor;
    fn writer(&mut self) -> &mut Writer;
    /// Whether the pass reads the whole listing at once (a dry run writes nothing, and `plan`
    /// reports the listing whole).
    fn unbounded(&self) -> bool;
    /// Whether the pass stops reading pages (a write failed for good).
    fn stopped(&self) -> bool {
        false
    }
    /// Whether a machine of a page concerns the pass (those left by earlier passes did).
    fn wants(&mut self, m: &MachineRef) -> bool;
    /// Handles a machine: its state, or a write started (or deferred for want of budget).
    fn machine(&mut self, m: MachineRef) -> impl Future<Output = ()> + Send;
    /// Handles a write that finished.
    fn finished(&mut self, done: Finished);
}

/// A page read failed.
pub struct ListFailure {
    pub error: ArmError,
    /// The page was the one a `nextLink` kept from an earlier pass points at (its skip token
    /// may have expired: the listing can start again from the first page).
    pub kept_link: bool,
}

/// Continues the listing of `collection` for one pass: the machines earlier passes left first,
/// then pages while the budget lasts and the listing is not over. A page is read only when no
/// machine is waiting for budget, so at most the rest of one page is carried to the next pass;
/// every pass reads a page at least, so that the listing progresses however slow ARM is against
/// the time bound. Waits for the writes in flight, also after an error.
pub async fn drive(
    pass: &mut impl Visit,
    arm: &ArmClient,
    collection: &CollectionId,
) -> Result<(), ListFailure> {
    for m in pass.cursor().take_left() {
        pass.machine(m).await;
    }
    let mut kept_link = pass.cursor().at_link();
    let mut listed = Ok(());
    let mut read = 0;
    while !pass.stopped()
        && pass.cursor().wants_page()
        && (pass.unbounded() || read == 0 || pass.writer().has_budget())
    {
        read += 1;
        let page = match pass.cursor().next_page(arm, collection).await {
            Ok(page) => page,
            Err(error) => {
                // A listing that crossed its bounds would cross them again from the first page.
                let kept_link = kept_link && !pass.cursor().overran();
                listed = Err(ListFailure { error, kept_link });
                break;
            }
        };
        kept_link = false;
        for m in page {
            if pass.wants(&m) {
                pass.machine(m).await;
            }
        }
    }
    while let Some(done) = pass.writer().next().await {
        pass.finished(done);
    }
    listed
}

/// An association's listing for convergence, and what it found so far.
#[derive(Debug)]
pub struct Sweep {
    /// Fingerprint of what decides each machine's fate ([`basis`]); a listing made under
    /// another basis is not continued.
    pub basis: u64,
    /// The scope as read when the listing began: a pass continuing the listing (well within one
    /// drift interval of that read) does not read it again.
    pub scope: ResolvedScope,
    /// The scope this object used before spec.scopeRef changed: its machines follow. Kept for
    /// the object's later listings too, since a large group moves over many passes.
    pub previous: Option<ResourceId>,
    /// Whether the object was Ready for its current generation when the listing began: then
    /// what the listing writes is drift, and a pass that finds nothing to do keeps the status
    /// of the last complete listing.
    pub was_ready: bool,
    pub cursor: Cursor,
    pub tally: Tally,
    /// Names the spec lists that no page has shown yet (lower-cased -> as written).
    pub unseen: HashMap<String, String>,
    /// PATCHes ARM accepted during this listing.
    pub written: u32,
    /// `spec.monitoring` as read when the listing began, and what is left to decide.
    pub monitor: Option<Monitor>,
    /// Endpoint associations written during this listing.
    pub monitor_written: u32,
    /// The first terminal failure of this listing.
    pub failure: Option<ArmError>,
}

impl Sweep {
    pub fn new(
        basis: u64,
        scope: ResolvedScope,
        previous: Option<ResourceId>,
        was_ready: bool,
        names: &HashMap<String, String>,
    ) -> Sweep {
        Sweep {
            basis,
            scope,
            previous,
            was_ready,
            cursor: Cursor::default(),
            tally: Tally::default(),
            unseen: names.clone(),
            written: 0,
            monitor: None,
            monitor_written: 0,
            failure: None,
        }
    }

    /// Whether a pass may continue this listing: made under `basis`, not over, and begun less
    /// than `interval` ago.
    pub fn continues(&self, basis: u64, interval: Duration) -> bool {
        self.basis == basis && !self.cursor.is_done() && self.cursor.age() < interval
    }
}

/// A deletion's listing, and the machines detached by the passes before.
#[derive(Debug, Default)]
pub struct Detaching {
    pub basis: u64,
    pub cursor: Cursor,
    /// Machines seen without a scope after their PATCH, over every listing of this deletion.
    pub done: u32,
    /// PATCHes of this listing that ARM accepted as operations: a new listing checks them.
    pub accepted: u32,
}

impl Detaching {
    /// A new listing of the same deletion, the machines detached so far still counted.
    pub fn relisted(self) -> Detaching {
        Detaching {
            basis: self.basis,
            done: self.done,
            ..Detaching::default()
        }
    }
}

/// What decides a machine's fate besides the machine: the object (uid and spec), its scope, the
/// other associations' claims (in a fixed order: the caches list them in any order) and
/// whether this is a dry run.
pub fn basis(
    obj: &ArcServerAssociation,
    scope: &ResourceId,
    claims: &[Claim],
    dry_run: bool,
) -> u64 {
    let mut h = DefaultHasher::new();
    obj.metadata.uid.hash(&mut h);
    // The whole spec: a change of anything in it is rare, and listing again is always right.
    serde_json::to_string(&obj.spec)
        .unwrap_or_default()
        .hash(&mut h);
    scope.to_string().to_ascii_lowercase().hash(&mut h);
    dry_run.hash(&mut h);
    let mut claims: Vec<u64> = claims
        .iter()
        .map(|c| {
            hash(&(
                &c.object,
                c.created.to_string(),
                c.scope_id.to_ascii_lowercase(),
                serde_json::to_string(&c.machines).unwrap_or_default(),
            ))
        })
        .collect();
    claims.sort_unstable();
    claims.hash(&mut h);
    h.finish()
}

fn hash(v: &impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ArcServerAssociationSpec;
    use crate::api::association::MachineSelector;

    fn scope() -> ResourceId {
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/privateLinkScopes/p"
            .parse()
            .unwrap()
    }

    fn association() -> ArcServerAssociation {
        let mut a = ArcServerAssociation::new(
            "a",
            ArcServerAssociationSpec {
                scope_ref: None,
                scope_id: Some(scope().to_string()),
                machines: MachineSelector {
                    subscription_id: None,
                    resource_group: "rg".into(),
                    names: vec!["m".into()],
                    tag_selector: Default::default(),
                },
                on_conflict: Default::default(),
                monitoring: None,
                deletion: Default::default(),
                policy: Default::default(),
                suspend: false,
                credential_ref: None,
            },
        );
        a.metadata.uid = Some("u".into());
        a
    }

    #[tokio::test(start_paused = true)]
    async fn the_least_recently_used_entry_goes_when_full() {
        let sweeps = Sweeps::default();
        for i in 0..MAX_SWEEPS {
            sweeps.put(format!("ns/{i}"), Entry::Detach(Box::default()));
            tokio::time::advance(Duration::from_millis(1)).await;
        }
        // Used again: now the most recent.
        let first = sweeps.take("ns/0").unwrap();
        sweeps.put("ns/0".into(), first);
        tokio::time::advance(Duration::from_millis(1)).await;
        sweeps.put("ns/new".into(), Entry::Detach(Box::default()));
        assert_eq!(sweeps.len(), MAX_SWEEPS);
        assert!(sweeps.take("ns/1").is_none(), "the oldest was evicted");
        assert!(sweeps.take("ns/0").is_some());
        assert!(sweeps.take("ns/new").is_some());
        let clone = sweeps.clone();
        clone.forget("ns/2");
        assert!(sweeps.take("ns/2").is_none(), "clones share the entries");
    }

    #[test]
    fn the_basis_changes_with_whatever_decides_a_machine_but_not_claim_order() {
        let s = scope();
        let obj = association();
        let claim = |object: &str| Claim {
            object: object.into(),
            created: jiff::Timestamp::from_second(1).unwrap(),
            scope_id: "x".into(),
            machines: Default::default(),
        };
        let base = basis(&obj, &s, &[], false);
        assert_eq!(base, basis(&obj, &s, &[], false));
        let mut other_uid = obj.clone();
        other_uid.metadata.uid = Some("v".into());
        let mut other_spec = obj.clone();
        other_spec.spec.machines.names.push("n".into());
        let other_scope: ResourceId = format!("{s}2").parse().unwrap();
        for other in [
            basis(&other_uid, &s, &[], false),
            basis(&other_spec, &s, &[], false),
            basis(&obj, &other_scope, &[], false),
            basis(&obj, &s, &[claim("ns/b")], false),
            basis(&obj, &s, &[], true),
        ] {
            assert_ne!(base, other);
        }
        let mut moved = claim("ns/b");
        moved.machines.names = vec!["m".into()];
        assert_ne!(
            basis(&obj, &s, &[claim("ns/b")], false),
            basis(&obj, &s, &[moved], false)
        );
        assert_eq!(
            basis(&obj, &s, &[claim("ns/b"), claim("ns/c")], false),
            basis(&obj, &s, &[claim("ns/c"), claim("ns/b")], false),
            "the caches list claims in any order"
        );
    }
}
