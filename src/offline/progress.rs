//! Progress of `apply` on stderr: a spinner line per object on a terminal, plain lines
//! (one per change of state) otherwise, so CI logs stay readable. Each line is one line: what
//! it shows from ARM has its control characters escaped.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::printable::one_line;

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
            label: one_line(&label).into_owned(),
            tty: std::io::stderr().is_terminal(),
            started: Instant::now(),
            frame: 0,
            message: String::new(),
        }
    }

    /// Shows a new state; plain output prints it only when it changed.
    pub fn update(&mut self, message: &str) {
        let message = one_line(message);
        if message == self.message {
            self.draw();
            return;
        }
        message.as_ref().clone_into(&mut self.message);
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
        let line = format!(
            "{} {}: {} ({}s)",
            FRAMES[self.frame],
            self.label,
            self.message,
            self.started.elapsed().as_secs()
        );
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{}", fit(&line, width()));
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
        let message = one_line(message);
        let mark = if ok { '✓' } else { '✗' };
        let elapsed = self.started.elapsed().as_secs_f32();
        if self.tty {
            eprintln!("\r\x1b[2K{mark} {}: {message} ({elapsed:.1}s)", self.label);
        } else {
            eprintln!("{}: {mark} {message} ({elapsed:.1}s)", self.label);
        }
    }
}

/// Terminal width from `COLUMNS`, else 80: a redrawn line must not wrap, or `\r` would leave
/// the wrapped part behind.
fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|w: &usize| *w > 20)
        .unwrap_or(80)
}

/// `line` cut to `width - 1` characters, marked with an ellipsis when cut.
fn fit(line: &str, width: usize) -> String {
    let max = width.saturating_sub(1);
    if line.chars().count() <= max {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redrawn_lines_fit_the_terminal() {
        assert_eq!(fit("short", 80), "short");
        let cut = fit(&"x".repeat(200), 80);
        assert_eq!(cut.chars().count(), 79);
        assert!(cut.ends_with('…'));
    }
}
