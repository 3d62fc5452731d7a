//! Listings: a collection read page by page, following `nextLink`, and bounded. A provider that
//! keeps handing out new links (with or without items) would otherwise be listed for ever: a
//! probe read 1,708 empty pages in 75 s before it was killed. So one listing (from its first
//! page to its last, however many calls or reconcile passes it spans) reads at most
//! [`ListLimits::max_pages`] pages and [`ListLimits::max_items`] items and spends at most
//! [`ListLimits::max_reading`] reading them; beyond, the listing fails as `InvalidResponse`.
//! A `nextLink` that repeats an earlier page fails at once.
//!
//! The bounds are per listing, not per call or per pass: an association continues its listing
//! of a resource group across passes ([`Listing`] is what it keeps), and the pages it reads in
//! every pass count towards the same bounds, while a listing started again from its first page
//! starts from zero.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use azure_core::http::Method;
use futures::{Stream, TryStreamExt};
use serde::de::DeserializeOwned;
use url::Url;

use crate::azure::client::ArmClient;
use crate::azure::error::ArmError;
use crate::azure::id::CollectionId;
use crate::azure::negotiation::Target;
use crate::azure::pipeline::{ArmResponse, decode_bytes};

/// Pages one listing may read. An association of 100,000 machines at ARM's page size of 100 is
/// 1,000 pages; ten times that leaves room for providers that answer smaller pages, or empty
/// ones with a `nextLink` (ARM may), and ends an endless listing after a few minutes.
pub const MAX_LIST_PAGES: u32 = 10_000;

/// Items one listing may return: ten times the largest fleet an association was measured with
/// (100,000 machines), a few GB less than what a listing without end would hold.
pub const MAX_LIST_ITEMS: u64 = 1_000_000;

/// Time one listing may spend reading its pages (waits for the subscription's read bucket and
/// retries included, what the caller does between pages not). The 1,000 pages of 100,000
/// machines take about 40 s at ARM's 25 reads/s; 15 minutes leaves room for slow pages and
/// throttling, and stops a listing whose pages trickle in.
pub const MAX_LIST_READING: Duration = Duration::from_secs(15 * 60);

/// Bounds of one listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListLimits {
    pub max_pages: u32,
    pub max_items: u64,
    pub max_reading: Duration,
}

impl Default for ListLimits {
    fn default() -> Self {
        ListLimits {
            max_pages: MAX_LIST_PAGES,
            max_items: MAX_LIST_ITEMS,
            max_reading: MAX_LIST_READING,
        }
    }
}

#[derive(serde::Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(rename = "nextLink")]
    next_link: Option<String>,
}

/// The next page to read.
#[derive(Debug, Default)]
enum Position {
    #[default]
    First,
    Next(Url),
    End,
}

/// Where one listing stands: the next page, the links followed (hashed, 8 bytes a page) and
/// what it has read so far against its bounds.
#[derive(Debug, Default)]
pub struct Listing {
    position: Position,
    links: HashSet<u64>,
    pages: u32,
    items: u64,
    reading: Duration,
    /// A bound was crossed: the listing failed although its last page was read.
    overran: bool,
}

impl Listing {
    /// Whether the last page was read.
    pub fn is_over(&self) -> bool {
        matches!(self.position, Position::End)
    }

    /// Whether the next page is one a `nextLink` of an earlier page points at.
    pub fn at_link(&self) -> bool {
        matches!(self.position, Position::Next(_))
    }

    /// Whether the listing failed for crossing one of its bounds (rather than for a page that
    /// could not be read: listing again from the first page would only cross it again).
    pub fn overran(&self) -> bool {
        self.overran
    }

    /// Reads the next page and moves past it (an empty page once the listing is over). A page
    /// that crosses a bound, or whose `nextLink` repeats an earlier one, is an error.
    pub async fn next_page<T: DeserializeOwned>(
        &mut self,
        arm: &ArmClient,
        collection: &CollectionId,
    ) -> Result<Vec<T>, ArmError> {
        let link = match &self.position {
            Position::First => None,
            Position::Next(url) => Some(url),
            Position::End => return Ok(Vec::new()),
        };
        let started = tokio::time::Instant::now();
        let (items, next) = read_page(arm, collection, link).await?;
        self.reading += started.elapsed();
        self.pages = self.pages.saturating_add(1);
        self.items = self.items.saturating_add(items.len() as u64);
        let limits = arm.list_limits();
        let crossed = if self.items > limits.max_items {
            Some(format!("more than {} items", limits.max_items))
        } else if next.is_some() && self.pages >= limits.max_pages {
            Some(format!("more than {} pages", limits.max_pages))
        } else if next.is_some() && self.reading >= limits.max_reading {
            Some(format!(
                "pages still coming after {:?} of reading",
                limits.max_reading
            ))
        } else {
            None
        };
        if let Some(crossed) = crossed {
            self.overran = true;
            let reading =
                Duration::from_millis(self.reading.as_millis().try_into().unwrap_or(u64::MAX));
            return Err(ArmError::InvalidResponse(format!(
                "list {collection}: {crossed} ({} pages and {} items read in {reading:?}); a listing is bounded to {} pages, {} items and {:?} of reading",
                self.pages, self.items, limits.max_pages, limits.max_items, limits.max_reading
            )));
        }
        self.position = match next {
            // A provider that hands out a link it handed out before would be listed for ever.
            Some(url) if !self.links.insert(hash(url.as_str())) => {
                return Err(repeated_link(collection, &url));
            }
            Some(url) => Position::Next(url),
            None => {
                // Nothing to compare later links with: the listing is over.
                self.links = HashSet::new();
                Position::End
            }
        };
        Ok(items)
    }
}

/// The error for a provider whose `nextLink` repeats an earlier page of `collection` (the link's
/// query, which may carry a skip token, is left out).
fn repeated_link(collection: &CollectionId, link: &Url) -> ArmError {
    ArmError::InvalidResponse(format!(
        "list {collection}: nextLink repeats an earlier page ({}{})",
        link.origin().ascii_serialization(),
        link.path()
    ))
}

fn hash(link: &str) -> u64 {
    let mut h = DefaultHasher::new();
    link.hash(&mut h);
    h.finish()
}

/// One page of a collection: the first when `link` is `None`, else the page a `nextLink` of an
/// earlier page points at; its items and the link to the next page (`None` on the last).
async fn read_page<T: DeserializeOwned>(
    arm: &ArmClient,
    collection: &CollectionId,
    link: Option<&Url>,
) -> Result<(Vec<T>, Option<Url>), ArmError> {
    let resp = match link {
        // Checked again: a link kept between passes is followed only on this endpoint.
        Some(link) => {
            let url = arm.check_own_url(link.as_str(), "nextLink")?;
            let subscription = collection.parent().subscription();
            arm.sender()
                .send(Method::Get, url, subscription, collection.provider(), None)
                .await?
        }
        None => {
            let target = Target {
                segments: collection.segments().collect(),
                resource_type: collection.resource_type(),
                subscription: collection.parent().subscription(),
                provider: collection.provider(),
            };
            arm.send_to(Method::Get, &target, None, None).await?.0
        }
    };
    decode_page(resp, arm, collection)
}

/// A page's items and the link to the next one.
fn decode_page<T: DeserializeOwned>(
    resp: ArmResponse,
    arm: &ArmClient,
    collection: &CollectionId,
) -> Result<(Vec<T>, Option<Url>), ArmError> {
    if resp.status == 404 {
        return Ok((Vec::new(), None));
    }
    if resp.status != 200 {
        return Err(resp.error());
    }
    let page: Page<T> = decode_bytes(&resp.body, &format!("list {collection}"))?;
    let next = match page.next_link.filter(|l| !l.is_empty()) {
        Some(l) => Some(arm.check_own_url(&l, "nextLink")?),
        None => None,
    };
    Ok((page.value, next))
}

impl ArmClient {
    /// Lists a collection item by item, following `nextLink`; one page is held at a time.
    pub fn list<T: DeserializeOwned + Send + 'static>(
        &self,
        collection: &CollectionId,
    ) -> impl Stream<Item = Result<T, ArmError>> + Send + 'static {
        self.list_pages(collection)
            .map_ok(|page| futures::stream::iter(page.into_iter().map(Ok)))
            .try_flatten()
    }

    /// Lists a collection page by page, following `nextLink`, within [`ListLimits`].
    pub fn list_pages<T: DeserializeOwned + Send + 'static>(
        &self,
        collection: &CollectionId,
    ) -> impl Stream<Item = Result<Vec<T>, ArmError>> + Send + 'static {
        let start = (self.clone(), collection.clone(), Listing::default());
        futures::stream::try_unfold(start, |(arm, collection, mut listing)| async move {
            if listing.is_over() {
                return Ok(None);
            }
            let page = listing.next_page(&arm, &collection).await?;
            Ok(Some((page, (arm, collection, listing))))
        })
    }
}
