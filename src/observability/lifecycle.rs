//! Readiness and the clean stop of `serve` (issue 14): on SIGTERM (or
//! SIGINT) `/readyz` turns 503 and the background loops are told to stop
//! at their next safe point; after `PORTAL_DRAIN_DELAY` the listeners
//! close, requests in flight get up to [`SHUTDOWN_TIMEOUT_SECONDS`] to
//! finish, the background loops are awaited, and the process exits 0.
use crate::web::Running;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// How long requests in flight may take to finish once the listeners
/// have closed (actix's `shutdown_timeout`).
pub const SHUTDOWN_TIMEOUT_SECONDS: u64 = 30;

/// The state that `/readyz`, the background loops and `serve` share.
/// Cloning shares it.
#[derive(Clone)]
pub struct Lifecycle(Arc<Inner>);

struct Inner {
    draining: AtomicBool,
    /// `true` once the background loops should stop.
    stop: watch::Sender<bool>,
    /// `serve` handles the signals itself (the listeners leave them alone).
    signals_managed: AtomicBool,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle(Arc::new(Inner {
            draining: AtomicBool::new(false),
            stop: watch::Sender::new(false),
            signals_managed: AtomicBool::new(false),
        }))
    }
}

impl Lifecycle {
    /// Draining: `/readyz` answers 503 from now on.
    pub fn is_draining(&self) -> bool {
        self.0.draining.load(Ordering::SeqCst)
    }

    /// Starts draining and tells the background loops to stop.
    pub fn begin_drain(&self) {
        self.0.draining.store(true, Ordering::SeqCst);
        self.0.stop.send_replace(true);
    }

    /// What a background loop watches: it turns `true` when it should stop.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.0.stop.subscribe()
    }

    /// `serve` calls this before starting the listeners, which then leave
    /// SIGTERM and SIGINT to [`serve_until_stopped`] (the demo and the
    /// tests keep actix's own handling).
    pub fn manage_signals(&self) {
        self.0.signals_managed.store(true, Ordering::SeqCst);
    }

    pub fn signals_managed(&self) -> bool {
        self.0.signals_managed.load(Ordering::SeqCst)
    }
}

/// Sleeps for `d` unless told to stop first; `true` when the loop should
/// stop. A loop calls it between batches, its safe points.
pub async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    if *stop.borrow() {
        return true;
    }
    let woken = tokio::select! {
        _ = tokio::time::sleep(d) => None,
        r = stop.wait_for(|v| *v) => Some(r.is_ok()),
    };
    match woken {
        None => *stop.borrow(),
        Some(stopped) => {
            if !stopped {
                // Nobody can tell it to stop any more: just sleep.
                tokio::time::sleep(d).await;
            }
            stopped
        }
    }
}

/// Serves until SIGTERM or SIGINT, then stops cleanly (see the module
/// documentation). `Ok` means a clean stop: the process exits 0.
pub async fn serve_until_stopped(
    running: Running,
    metrics: Option<Running>,
    background: Vec<tokio::task::JoinHandle<()>>,
    lifecycle: Lifecycle,
    drain_delay: Duration,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let main_handle = running.server.handle();
    let mut main = tokio::spawn(running.server);
    let metrics = metrics.map(|m| (m.server.handle(), tokio::spawn(m.server)));
    let received = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
        r = &mut main => {
            // The listener failed on its own: stop the rest and say why.
            lifecycle.begin_drain();
            if let Some((h, _)) = &metrics {
                h.stop(false).await;
            }
            return match r {
                Ok(Ok(())) => Err(anyhow::anyhow!("the web server stopped unexpectedly")),
                Ok(Err(e)) => Err(e.into()),
                Err(e) => Err(anyhow::anyhow!("the web server failed: {e}")),
            };
        }
    };
    let started = tokio::time::Instant::now();
    lifecycle.begin_drain();
    tracing::info!(
        signal = received,
        drain_delay_seconds = drain_delay.as_secs(),
        "stopping: /readyz answers 503, background work stops after its current batch"
    );
    if !drain_delay.is_zero() {
        tokio::select! {
            _ = tokio::time::sleep(drain_delay) => {}
            _ = term.recv() => tracing::info!("second signal: skipping the rest of the drain delay"),
            _ = int.recv() => tracing::info!("second signal: skipping the rest of the drain delay"),
        }
    }
    tracing::info!(
        timeout_seconds = SHUTDOWN_TIMEOUT_SECONDS,
        "no longer accepting connections; finishing the requests in flight"
    );
    let metrics_stopped = async {
        if let Some((h, task)) = metrics {
            h.stop(true).await;
            let _ = task.await;
        }
    };
    let ((), served) = tokio::join!(metrics_stopped, async {
        main_handle.stop(true).await;
        main.await
    });
    let served = match served {
        Ok(r) => r.map_err(anyhow::Error::from),
        Err(e) => Err(anyhow::anyhow!("the web server failed: {e}")),
    };
    // The background loops stop at their next safe point; a batch that
    // runs longer than the budget is left to the lease (another instance,
    // or this one after its restart, takes over within a minute).
    let deadline = started + drain_delay + Duration::from_secs(SHUTDOWN_TIMEOUT_SECONDS);
    let mut unfinished = 0;
    for task in background {
        if tokio::time::timeout_at(deadline, task).await.is_err() {
            unfinished += 1;
        }
    }
    if unfinished > 0 {
        tracing::warn!(
            tasks = unfinished,
            "background work did not reach a safe point in time; its lease lapses within a minute"
        );
    }
    served?;
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "stopped cleanly");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn loops_wake_up_when_told_to_stop() {
        let l = Lifecycle::default();
        let mut rx = l.stopping();
        assert!(!l.is_draining());
        let t =
            tokio::spawn(async move { sleep_or_stop(&mut rx, Duration::from_secs(3600)).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        l.begin_drain();
        let stopped = tokio::time::timeout(Duration::from_secs(5), t)
            .await
            .expect("woken at once")
            .unwrap();
        assert!(stopped);
        assert!(l.is_draining());
        // Once stopped, it does not sleep again.
        let mut rx = l.stopping();
        assert!(sleep_or_stop(&mut rx, Duration::from_secs(3600)).await);
    }

    #[tokio::test]
    async fn loops_sleep_when_nobody_can_stop_them() {
        let rx = Lifecycle::default().stopping();
        let mut rx = rx;
        assert!(!sleep_or_stop(&mut rx, Duration::from_millis(10)).await);
    }
}
