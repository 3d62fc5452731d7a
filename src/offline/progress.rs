//! Progress of `apply` on stderr: a spinner line per object on a terminal, plain lines
//! (one per change of state) otherwise, so CI logs stay readable.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const TICK: Duration = Duration::from_millis(100);

/// The progress line of one object.
pub struct Spinner {
    label: String,
    tty: bool,
    started: Instant,
    frame: usize,
    message: String,
}

impl Spinner {
    pub fn start(label: String) -> Spinner {
        Spinner {
            label,
            tty: std::io::stderr().is_terminal(),
            started: Instant::now(),
            frame: 0,
            message: String::new(),
        }
    }

    /// Shows a new state; plain output prints it only when it changed.
    pub fn update(&mut self, message: &str) {
        if message == self.message {
            self.draw();
            return;
        }
        message.clone_into(&mut self.message);
        if self.tty {
            self.draw();
        } else {
            eprintln!("{}: {message}", self.label);
        }
    }

    fn draw(&mut self) {
        if !self.tty {
            return;
        }
        self.frame = (self.frame + 1) % FRAMES.len();
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{} {}: {} ({}s)",
            FRAMES[self.frame],
            self.label,
            self.message,
            self.started.elapsed().as_secs()
        );
        let _ = err.flush();
    }

    /// Waits `delay`, animating on a terminal.
    pub async fn wait(&mut self, delay: Duration) {
        if !self.tty {
            tokio::time::sleep(delay).await;
            return;
        }
        let until = Instant::now() + delay;
        while Instant::now() < until {
            tokio::time::sleep(TICK.min(until - Instant::now())).await;
            self.draw();
        }
    }

    /// Ends the line with `ok` (✓) or not (✗) and a final message.
    pub fn finish(self, ok: bool, message: &str) {
        let mark = if ok { '✓' } else { '✗' };
        let elapsed = self.started.elapsed().as_secs_f32();
        if self.tty {
            eprintln!("\r\x1b[2K{mark} {}: {message} ({elapsed:.1}s)", self.label);
        } else {
            eprintln!("{}: {mark} {message} ({elapsed:.1}s)", self.label);
        }
    }
}
