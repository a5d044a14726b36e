//! The estimator over a sequence of polls 15 s apart, starting from what the recorded
//! `qdrant-1.18.3/single-busy` shows for `busy` (372 points optimized, 10,244 queued) and
//! ending with the restart `qdrant-1.18.3/single` shows (0 optimized, 10,872 queued).

use super::*;

const POLL: f64 = 15.0;

struct Sequence {
    history: BacklogHistory,
    at: f64,
    optimized: f64,
    queued: f64,
}

impl Sequence {
    fn new() -> Sequence {
        Sequence {
            history: BacklogHistory::default(),
            at: 0.0,
            optimized: 372.0,
            queued: 10_244.0,
        }
    }

    fn poll(&mut self) -> OptimizerEstimate {
        let sample = BacklogSample {
            at: self.at,
            optimized_points: self.optimized,
            queued_points: Some(self.queued),
        };
        self.at += POLL;
        let mut estimates = self.history.observe(None, vec![("busy", sample)]);
        estimates.remove("busy").expect("estimated")
    }

    /// `n` polls in which the optimizer finishes `done` points and the queue changes by
    /// `queued`: each poll's estimate with the backlog it saw.
    fn run(&mut self, n: usize, done: f64, queued: f64) -> Vec<(OptimizerEstimate, f64)> {
        (0..n)
            .map(|_| {
                self.optimized += done;
                self.queued = (self.queued + queued).max(0.0);
                (self.poll(), self.queued)
            })
            .collect()
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn shrinking_stalled_growing_finished_and_restarted() {
    let mut seq = Sequence::new();
    let first = seq.poll();
    assert_eq!(
        first,
        OptimizerEstimate::default(),
        "one poll knows no pace"
    );

    // Shrinking: 600 points optimized per poll (40 per second), 600 leave the queue.
    for (estimate, backlog) in seq.run(10, 600.0, -600.0) {
        let rate = estimate.throughput.expect("two polls give a pace");
        assert!(close(rate, 600.0 / POLL), "{rate}");
        let eta = estimate.eta.expect("a shrinking backlog has an ETA");
        assert!(
            close(eta * rate, backlog),
            "ETA × throughput is the backlog"
        );
    }

    // Stalled: nothing finishes, the queue stays. The window still holds progress at first...
    let stalled = seq.run(30, 0.0, 0.0);
    assert!(
        stalled[0].0.eta.is_some(),
        "progress within the window still counts"
    );
    // ...and once a whole window passed without progress, the pace is 0 and no ETA exists.
    let (last, _) = stalled.last().expect("polls");
    assert_eq!(last.throughput, Some(0.0));
    assert_eq!(last.eta, None);

    // Growing: some points optimized, but the queue grows faster: no finish time.
    for (estimate, _) in seq.run(5, 150.0, 300.0) {
        assert!(estimate.throughput.is_some_and(|r| r > 0.0));
        assert_eq!(estimate.eta, None, "a growing backlog has no ETA");
    }

    // Finished: the queue is empty, whatever the pace.
    seq.queued = 0.0;
    let (finished, _) = seq.run(1, 0.0, 0.0)[0];
    assert_eq!(finished.eta, Some(0.0));

    // Restart (as `single` shows): the count starts again from 0 with 10,872 queued.
    seq.optimized = 0.0;
    seq.queued = 10_872.0;
    let restarted = seq.poll();
    assert_eq!(
        restarted,
        OptimizerEstimate::default(),
        "a restart starts over"
    );
    let (after, backlog) = seq.run(1, 300.0, -300.0)[0];
    assert!(close(after.throughput.expect("two polls"), 300.0 / POLL));
    assert!(close(after.eta.expect("shrinking") * 20.0, backlog));
}

#[test]
fn the_history_stays_small_whatever_the_poll_interval() {
    let mut history = BacklogHistory::default();
    for i in 0..10_000 {
        let sample = BacklogSample {
            at: f64::from(i),
            optimized_points: f64::from(i),
            queued_points: None,
        };
        let estimates = history.observe(None, vec![("c", sample)]);
        if i > 0 {
            assert!(close(estimates["c"].throughput.expect("pace"), 1.0));
        }
    }
    let kept = &history.by_collection["c"].1;
    assert!(kept.len() <= 10, "{} samples kept", kept.len());
    let span = kept.back().unwrap().at - kept[0].at;
    assert!(
        (WINDOW_SECS..WINDOW_SECS + 2.0 * SPACING_SECS).contains(&span),
        "{span}"
    );
}

#[test]
fn odd_values_and_vanished_collections_are_dropped() {
    let mut history = BacklogHistory::default();
    let sample = |at: f64, optimized: f64, queued: Option<f64>| BacklogSample {
        at,
        optimized_points: optimized,
        queued_points: queued,
    };
    history.observe(None, vec![("a", sample(0.0, 10.0, Some(5.0)))]);
    let estimates = history.observe(
        None,
        vec![
            ("a", sample(60.0, f64::NAN, Some(5.0))),
            ("b", sample(60.0, 1.0, Some(f64::INFINITY))),
        ],
    );
    assert_eq!(
        estimates["a"],
        OptimizerEstimate::default(),
        "NaN is not a sample"
    );
    assert_eq!(estimates["b"].eta, None, "an infinite backlog is unknown");
    let estimates = history.observe(None, vec![("b", sample(120.0, 2.0, None))]);
    assert!(!estimates.contains_key("a"));
    assert!(
        !history.by_collection.contains_key("a"),
        "a vanished collection is forgotten"
    );
    assert!(close(estimates["b"].throughput.expect("pace"), 1.0 / 60.0));
    // A clock that goes back starts over rather than give a negative pace.
    let estimates = history.observe(None, vec![("b", sample(100.0, 3.0, None))]);
    assert_eq!(estimates["b"].throughput, None);
}

#[test]
fn a_new_process_start_forgets_everything() {
    let mut history = BacklogHistory::default();
    let start = SystemTime::UNIX_EPOCH;
    let sample = |at: f64, optimized: f64| BacklogSample {
        at,
        optimized_points: optimized,
        queued_points: Some(0.0),
    };
    history.observe(Some(start), vec![("a", sample(0.0, 10.0))]);
    let same = history.observe(Some(start), vec![("a", sample(60.0, 70.0))]);
    assert!(close(same["a"].throughput.expect("pace"), 1.0));
    // Restarted and already past the old count: only the start time tells.
    let later = start + std::time::Duration::from_secs(30);
    let restarted = history.observe(Some(later), vec![("a", sample(120.0, 100.0))]);
    assert_eq!(restarted["a"].throughput, None);
    assert_eq!(
        restarted["a"].eta,
        Some(0.0),
        "nothing queued is known without a pace"
    );
}
