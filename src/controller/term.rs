//! Terms as leader: the controllers run while this instance leads. When it loses leadership
//! (its renewals failed until the renew deadline, or another instance holds the Lease) they are
//! told to stop, and whatever has not stopped within the grace is dropped, before the lease can
//! expire and another instance start: no two leaders reconcile at once. The process then stands
//! for election again instead of exiting, so a control-plane blip does not cost a restart (nor,
//! after a few, a CrashLoopBackOff).

use std::future::Future;
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt, Shared};
use tokio::sync::watch;

/// What ends a term (or the process), as the controllers' graceful shutdown awaits it.
pub type Trigger = Shared<BoxFuture<'static, ()>>;

/// How long a term's work may go on once it is told to stop.
#[derive(Clone, Copy, Debug)]
pub struct Grace {
    /// After leadership is lost: less than the time left before the lease can expire.
    pub lost: Duration,
    /// After `stop` (SIGTERM): `--shutdown-timeout`; the lease is released afterwards.
    pub stop: Duration,
}

/// How [`lead`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// `stop` resolved.
    Stopped,
    /// The elector is gone (its task ended without being stopped).
    ElectorGone,
}

/// Runs `term` for every term as leader until `stop`: each time `is_leader` turns true, `term`
/// gets the trigger that ends its term (leadership lost, or `stop`) and runs until it returns
/// or its grace after the trigger is over.
pub async fn lead<F, W>(
    mut is_leader: watch::Receiver<bool>,
    stop: Trigger,
    grace: Grace,
    mut term: F,
) -> Ended
where
    F: FnMut(Trigger) -> W,
    W: Future<Output = ()>,
{
    loop {
        let leading = tokio::select! {
            leading = until(&mut is_leader, true) => leading,
            _ = stop.clone() => return Ended::Stopped,
        };
        if !leading {
            return Ended::ElectorGone;
        }
        let lost: Trigger = {
            let mut is_leader = is_leader.clone();
            async move {
                until(&mut is_leader, false).await;
            }
            .boxed()
            .shared()
        };
        let trigger: Trigger = {
            let (stop, lost) = (stop.clone(), lost.clone());
            async move {
                tokio::select! {
                    _ = stop => {},
                    _ = lost => {},
                }
            }
            .boxed()
            .shared()
        };
        tokio::select! {
            _ = term(trigger) => {}
            _ = async { lost.clone().await; tokio::time::sleep(grace.lost).await } => {
                tracing::warn!(grace = ?grace.lost, "in-flight reconciles did not stop within the grace after leadership was lost: cancelled before the lease can expire");
            }
            _ = async { stop.clone().await; tokio::time::sleep(grace.stop).await } => {
                tracing::warn!(timeout = ?grace.stop, "in-flight reconciles did not finish in time");
            }
        }
        if stop.peek().is_some() {
            return Ended::Stopped;
        }
        tracing::warn!("leadership lost: reconciling stopped; standing for election again");
    }
}

/// Waits until `is_leader` is `value`; false when the elector is gone.
async fn until(is_leader: &mut watch::Receiver<bool>, value: bool) -> bool {
    is_leader
        .wait_for(|leading| *leading == value)
        .await
        .is_ok()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::time::{Instant, sleep};

    use super::*;

    const GRACE: Grace = Grace {
        lost: Duration::from_millis(2500),
        stop: Duration::from_secs(20),
    };

    /// When a term started, and when its work ended (returned or was dropped).
    type Span = (Instant, Option<Instant>);

    #[derive(Clone, Default)]
    struct Terms(Arc<Mutex<Vec<Span>>>);

    impl Terms {
        fn all(&self) -> Vec<Span> {
            self.0.lock().unwrap().clone()
        }
    }

    /// Records the end of a term's work when dropped, however it ends.
    struct Ends(Terms, usize);

    impl Drop for Ends {
        fn drop(&mut self) {
            self.0.0.lock().unwrap()[self.1].1 = Some(Instant::now());
        }
    }

    /// Work that ignores its trigger: a reconcile stuck in a slow ARM call.
    fn stubborn(terms: &Terms) -> impl FnMut(Trigger) -> BoxFuture<'static, ()> + use<> {
        let terms = terms.clone();
        move |_trigger| {
            let index = {
                let mut all = terms.0.lock().unwrap();
                all.push((Instant::now(), None));
                all.len() - 1
            };
            let ends = Ends(terms.clone(), index);
            async move {
                let _ends = ends;
                std::future::pending::<()>().await
            }
            .boxed()
        }
    }

    fn never() -> Trigger {
        std::future::pending::<()>().boxed().shared()
    }

    #[tokio::test(start_paused = true)]
    async fn work_that_ignores_a_lost_leadership_is_dropped_within_the_grace_then_a_new_term_starts()
     {
        let (leader, is_leader) = watch::channel(false);
        let terms = Terms::default();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let stop: Trigger = async move {
            let _ = stop_rx.await;
        }
        .boxed()
        .shared();
        let run = tokio::spawn(lead(is_leader, stop, GRACE, stubborn(&terms)));

        sleep(Duration::from_secs(1)).await;
        assert!(terms.all().is_empty(), "no work before leading");
        leader.send_replace(true);
        sleep(Duration::from_secs(10)).await;
        let lost = Instant::now();
        leader.send_replace(false);
        sleep(Duration::from_secs(5)).await;
        let all = terms.all();
        assert_eq!(all.len(), 1);
        let ended = all[0].1.expect("the work of a lost term is dropped");
        assert!(
            ended - lost <= GRACE.lost,
            "ended {:?} after the loss",
            ended - lost
        );

        leader.send_replace(true);
        sleep(Duration::from_millis(10)).await;
        assert_eq!(terms.all().len(), 2, "leading again starts a new term");
        assert!(!run.is_finished(), "the process stays");

        let stopped = Instant::now();
        let _ = stop_tx.send(());
        assert_eq!(run.await.unwrap(), Ended::Stopped);
        let ended = terms.all()[1].1.expect("the last term's work ends on stop");
        assert_eq!(
            ended - stopped,
            GRACE.stop,
            "SIGTERM keeps --shutdown-timeout"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn work_that_stops_on_its_trigger_ends_the_term_at_once() {
        let (leader, is_leader) = watch::channel(true);
        let ended = Arc::new(Mutex::new(Vec::new()));
        let seen = ended.clone();
        let run = tokio::spawn(lead(is_leader, never(), GRACE, move |trigger| {
            let seen = seen.clone();
            async move {
                trigger.await;
                seen.lock().unwrap().push(Instant::now());
            }
        }));
        sleep(Duration::from_secs(3)).await;
        let lost = Instant::now();
        leader.send_replace(false);
        sleep(Duration::from_secs(1)).await;
        assert_eq!(*ended.lock().unwrap(), [lost]);
        drop(leader);
        assert_eq!(run.await.unwrap(), Ended::ElectorGone);
    }
}
