//! Quoting a value for the onboarding scripts, so that whatever it holds reaches the agent as
//! one argument and nothing in it is run: single quotes in both shells, which expand nothing.

/// The quote characters that open and close a PowerShell single-quoted string: besides `'`,
/// PowerShell's tokenizer takes the typographic single quotes as the same character.
const PS_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// `'...'` for bash: a quote inside ends the string, adds an escaped quote and opens another.
pub(super) fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `'...'` for PowerShell, every quote character inside doubled (two quotes stand for the
/// second one).
pub(super) fn ps(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        if PS_QUOTES.contains(&c) {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// PowerShell's reading of a single-quoted string at the start of `text` (its tokenizer's
    /// `ScanStringLiteral`): opened by any quote character; inside, a quote followed by a quote
    /// stands for the second one, a quote followed by anything else closes the string, and
    /// nothing else is special. The value and the rest of `text`; `None` when never closed.
    fn powershell_single_quoted(text: &str) -> Option<(String, &str)> {
        let mut chars = text.char_indices().peekable();
        let (_, open) = chars.next()?;
        if !PS_QUOTES.contains(&open) {
            return None;
        }
        let mut value = String::new();
        while let Some((i, c)) = chars.next() {
            if PS_QUOTES.contains(&c) {
                match chars.peek() {
                    Some(&(_, next)) if PS_QUOTES.contains(&next) => {
                        chars.next();
                        value.push(next);
                        continue;
                    }
                    _ => return Some((value, &text[i + c.len_utf8()..])),
                }
            }
            value.push(c);
        }
        None
    }

    /// bash's reading of a word made of `'...'` strings and `\'`, as [`sh`] writes it.
    fn bash_single_quoted(text: &str) -> Option<String> {
        let mut value = String::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix(r"\'") {
                value.push('\'');
                rest = after;
            } else {
                let inside = rest.strip_prefix('\'')?;
                let end = inside.find('\'')?;
                value.push_str(&inside[..end]);
                rest = &inside[end + 1..];
            }
        }
        Some(value)
    }

    #[test]
    fn values_are_quoted_for_each_shell() {
        assert_eq!(sh("rg-(x)"), "'rg-(x)'");
        assert_eq!(sh("it's"), r"'it'\''s'");
        assert_eq!(ps("it's"), "'it''s'");
        assert_eq!(ps("a\u{2019}b"), "'a\u{2019}\u{2019}b'");
        assert_eq!(
            powershell_single_quoted("'a''b\u{2018}\u{2018}c' rest"),
            Some(("a'b\u{2018}c".to_string(), " rest"))
        );
        assert_eq!(
            powershell_single_quoted("'a\u{2019}; rm x'"),
            Some(("a".to_string(), "; rm x'")),
            "a typographic quote closes the string, which is why ps doubles it"
        );
    }

    proptest! {
        /// Any value, quoted for PowerShell, is read back as exactly that value, and the string
        /// ends where the quoting ends (nothing of the value is left to run). PowerShell is not
        /// installed here, so this checks the quoting against the model of its tokenizer above.
        #[test]
        fn powershell_reads_back_any_value(
            s in "\\PC*|[\\x00-\\x1f'\u{2018}\u{2019}\u{201A}\u{201B}\"`$(){};|&<>#a\\\\ ]*"
        ) {
            let quoted = ps(&s);
            prop_assert_eq!(powershell_single_quoted(&quoted), Some((s.clone(), "")));
        }

        /// The same for bash's quoting (the scripts themselves are run by bash in the
        /// onboarding tests).
        #[test]
        fn bash_reads_back_any_value(s in "\\PC*|[\\x00-\\x1f'\"`$(){};|&<>#a\\\\ ]*") {
            prop_assert_eq!(bash_single_quoted(&sh(&s)), Some(s.clone()));
        }
    }
}
