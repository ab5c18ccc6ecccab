//! Where a run's minutes go: each phase of `cargo xtask test` timed, and a
//! table of them printed at the end, whether the run passed or not.

use std::time::{Duration, Instant};

/// The phases run so far, in order, with their wall-clock time.
pub struct Phases {
    done: Vec<(String, Duration)>,
    started: Instant,
}

impl Phases {
    pub fn new() -> Self {
        Self {
            done: Vec::new(),
            started: Instant::now(),
        }
    }

    /// Runs `work` as the phase `name`, recording its time even when it fails.
    pub fn run<T>(&mut self, name: &str, work: impl FnOnce() -> T) -> T {
        println!("\n=== phase: {name}");
        let started = Instant::now();
        let output = work();
        let took = started.elapsed();
        println!("=== phase: {name}: {:.1} s", took.as_secs_f64());
        self.done.push((name.to_owned(), took));
        output
    }

    /// Records a part measured elsewhere (one browser's share of a phase
    /// they ran side by side), as a row of its own.
    pub fn record(&mut self, name: &str, took: Duration) {
        self.done.push((name.to_owned(), took));
    }

    /// The table of phases and seconds, and the total since [`Phases::new`].
    pub fn table(&self) -> String {
        let mut table = String::from("| phase | seconds |\n|---|---:|\n");
        for (name, took) in &self.done {
            table.push_str(&format!("| {name} | {:.1} |\n", took.as_secs_f64()));
        }
        let total = self.started.elapsed();
        table.push_str(&format!("| **total** | **{:.1}** |\n", total.as_secs_f64()));
        table
    }
}
