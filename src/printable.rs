//! Text from outside (ARM, the cluster, manifests) shown to people: control characters are
//! escaped, so that a name carrying `ESC[2J` cannot clear or drive the operator's terminal, and
//! a value shown on one line (or in a script's comment) cannot start another. JSON output does
//! not go through here: serde_json escapes control characters and keeps the values exact.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` (a whole report) for a terminal: every control character but the line feed escaped,
/// as Rust writes it (`\u{1b}`, `\r`, `\t`), and so are the line separators and the
/// bidirectional formatting characters that would reorder what is shown. Text without any comes back as it was.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    escape(text, |c| c != '\n' && is_hostile(c))
}

/// `value` on one line: [`for_terminal`] with line feeds escaped too.
pub fn one_line(value: &str) -> Cow<'_, str> {
    escape(value, is_hostile)
}

/// C0 and C1 controls and DEL, the line and paragraph separators, and the bidirectional
/// embeddings, overrides, isolates and marks.
fn is_hostile(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

fn escape(text: &str, escaped: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escaped(c) {
            let _ = write!(out, "{}", c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escape_sequences_and_reordering_characters_are_shown_not_obeyed() {
        assert_eq!(
            for_terminal("id/\u{1b}[2J\u{1b}]0;title\u{7}x\r\n"),
            "id/\\u{1b}[2J\\u{1b}]0;title\\u{7}x\\r\n"
        );
        assert_eq!(for_terminal("a\u{9b}31mb"), "a\\u{9b}31mb", "C1 CSI");
        assert_eq!(for_terminal("a\u{202e}b\u{2066}"), "a\\u{202e}b\\u{2066}");
        assert_eq!(one_line("a\nb\tc"), "a\\nb\\tc");
        assert!(matches!(for_terminal("plain ✓ ärc\n"), Cow::Borrowed(_)));
        assert_eq!(for_terminal("back\\slash"), "back\\slash");
    }

    proptest! {
        #[test]
        fn nothing_a_terminal_obeys_is_left(s in "\\PC*|[\\x00-\\x1f\\x7f-\\u{9f}\\u{202a}-\\u{202e}a\\n]*") {
            let line = one_line(&s);
            prop_assert!(!line.chars().any(is_hostile), "{line:?}");
            let text = for_terminal(&s);
            prop_assert!(!text.chars().any(|c| c != '\n' && is_hostile(c)), "{text:?}");
            prop_assert_eq!(text.matches('\n').count(), s.matches('\n').count());
        }
    }
}
