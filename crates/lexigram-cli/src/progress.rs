//! A progress line on stderr for long operations (backups, restores), shown only when stderr
//! is a terminal: what is happening, the time so far and, for a backup, the size of the file
//! being written. Redrawn in place every 250 ms and erased when the operation ends, so logs and
//! pipes never see it.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A running progress line; stopped and erased on drop.
pub(crate) struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn size(bytes: u64) -> String {
    const MB: f64 = 1024.0 * 1024.0;
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / MB)
    } else {
        format!("{:.1} kB", bytes as f64 / 1024.0)
    }
}

impl Ticker {
    /// Starts a progress line labelled `label` if `wanted` and stderr is a terminal;
    /// `watch` is a file whose growing size is shown.
    pub(crate) fn start(label: String, watch: Option<PathBuf>, wanted: bool) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        if !wanted || !std::io::stderr().is_terminal() {
            return Ticker { stop, thread: None };
        }
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut err = std::io::stderr();
            while !flag.load(Ordering::Relaxed) {
                let written = watch
                    .as_ref()
                    .and_then(|p| std::fs::metadata(p).ok())
                    .map(|m| format!(", {} written", size(m.len())))
                    .unwrap_or_default();
                let _ = write!(
                    err,
                    "\r\x1b[2K{label}… {:.1}s{written}",
                    started.elapsed().as_secs_f64()
                );
                let _ = err.flush();
                std::thread::sleep(Duration::from_millis(250));
            }
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        });
        Ticker {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
