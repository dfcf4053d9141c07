//! Progress of long operations: an indicatif bar on stderr when stdout is a terminal,
//! else a plain line every 500 messages (`PLAIN_EVERY`) (logs and CI stay readable); warnings on
//! stderr.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::ProgressBar;
use q2c_service::dlq::Summary;

/// A plain progress line every this many messages.
const PLAIN_EVERY: u64 = 500;

/// Counts and shows progress of one operation.
pub struct Progress {
    verb: &'static str,
    bar: Option<ProgressBar>,
    started: Instant,
    summary: Summary,
    last_plain: u64,
    quiet: bool,
}

impl Progress {
    /// A progress display for `verb` (e.g. "moved"), `total` messages when known.
    pub fn new(verb: &'static str, total: Option<u64>) -> Self {
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(total, indicatif::ProgressDrawTarget::stderr());
            bar.set_style(crate::human::progress_style(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} {rate} {msg}",
            ));
            bar
        });
        Progress {
            verb,
            bar,
            started: Instant::now(),
            summary: Summary::default(),
            last_plain: 0,
            quiet: false,
        }
    }

    /// No output at all.
    pub fn hidden() -> Self {
        let mut progress = Progress::new("moved", None);
        progress.bar = None;
        progress.quiet = true;
        progress
    }

    /// The counts so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Messages handled per second so far.
    pub fn rate(&self) -> f64 {
        let done = self.summary.moved + self.summary.skipped + self.summary.failed;
        done as f64 / self.started.elapsed().as_secs_f64().max(1e-3)
    }

    /// Ends the display; returns the counts.
    pub fn finish(self) -> Summary {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.summary
    }
}

impl q2c_service::dlq::Progress for Progress {
    fn add(&mut self, moved: u64, skipped: u64, failed: u64) {
        self.summary.moved += moved;
        self.summary.skipped += skipped;
        self.summary.failed += failed;
        let done = self.summary.moved + self.summary.skipped + self.summary.failed;
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            bar.set_message(format!(
                "{} {} skipped {} failed {}",
                self.verb, self.summary.moved, self.summary.skipped, self.summary.failed
            ));
        } else if !self.quiet && done >= self.last_plain + PLAIN_EVERY {
            self.last_plain = done;
            eprintln!("{} ({})", self.summary, crate::human::rate(self.rate()));
        }
    }

    fn set(&mut self, moved: u64, total: Option<u64>) {
        self.summary.moved = moved;
        if let Some(bar) = &self.bar {
            if let Some(total) = total {
                bar.set_length(total);
            }
            bar.set_position(moved);
        } else if !self.quiet && moved >= self.last_plain + PLAIN_EVERY {
            self.last_plain = moved;
            eprintln!(
                "moved {moved} of {}",
                total.map_or("?".into(), |t| t.to_string())
            );
        }
    }

    fn warn(&mut self, message: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("warning: {message}")),
            None => eprintln!("warning: {message}"),
        }
    }

    fn note(&mut self, message: &str) {
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{message}")),
            None => eprintln!("{message}"),
        }
    }
}
