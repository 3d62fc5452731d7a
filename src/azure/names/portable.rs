//! Whether a pattern means the same to RE2 (Go's `regexp`, which the Kubernetes API server runs
//! for a CRD's `pattern` and CEL's `matches`) and to Rust's `regex` (what `plan`/`apply` and the
//! controller run).

/// Most copies of one thing a repetition may ask for in RE2 (Go's `regexp`, the API server),
/// nested repetitions multiplied: `(?:x{1,63}){1,33}` is refused there.
const MAX_REPEAT: u64 = 1000;

/// Whether `pattern` means the same to RE2 (Go's `regexp`, which the API server runs) and to
/// Rust's `regex`: `Err` says what does not. Both refuse lookaround and backreferences; what
/// each reads differently is a Perl class (`\w`, `\d`, `\s`, `\b`: ASCII in RE2, Unicode in
/// `regex`), a flag only one knows, and a repetition past [`MAX_REPEAT`], which only RE2 refuses.
pub fn portable(pattern: &str) -> Result<(), String> {
    // Per open group, the most copies any part of it asks for; and those of the last atom.
    let mut groups: Vec<u64> = vec![1];
    let mut last: u64 = 1;
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                escape(&mut chars)?;
                last = 1;
            }
            '[' => {
                class(&mut chars)?;
                last = 1;
            }
            '(' => {
                if chars.peek() == Some(&'?') {
                    chars.next();
                    let mut flags = String::new();
                    let mut opens = false;
                    for c in chars.by_ref() {
                        match c {
                            ':' => {
                                opens = true;
                                break;
                            }
                            ')' => break,
                            c => flags.push(c),
                        }
                    }
                    if let Some(f) = flags.chars().find(|f| !"imsU-".contains(*f)) {
                        return Err(format!(
                            "(?{flags}: {f:?} is not a flag both RE2 and Rust's regex know (i, m, s, U)"
                        ));
                    }
                    if !opens {
                        continue;
                    }
                }
                groups.push(1);
                continue;
            }
            ')' => last = groups.pop().unwrap_or(1),
            '{' => {
                let spec: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let (min, max) = spec.split_once(',').unwrap_or((&spec, &spec));
                let count = max.parse::<u64>().or_else(|_| min.parse::<u64>());
                if let Ok(count) = count {
                    let copies = last.saturating_mul(count);
                    if copies > MAX_REPEAT {
                        return Err(format!(
                            "{{{spec}}} asks for {copies} copies with the repetitions around it: RE2 (the API server) allows at most {MAX_REPEAT}"
                        ));
                    }
                    last = copies;
                }
            }
            _ => last = 1,
        }
        if groups.is_empty() {
            groups.push(1);
        }
        if let Some(most) = groups.last_mut() {
            *most = (*most).max(last);
        }
    }
    Ok(())
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// Reads an escape whose `\\` was just read.
fn escape(chars: &mut Chars<'_>) -> Result<(), String> {
    match chars.next() {
        Some(e) if "wWdDsSbB".contains(e) => Err(format!(
            "\\{e} is ASCII-only in RE2 (the API server) but Unicode in Rust's regex: write the class out"
        )),
        Some('p' | 'P') if chars.peek() == Some(&'{') => {
            chars.by_ref().find(|c| *c == '}');
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Reads a character class whose `[` was just read.
fn class(chars: &mut Chars<'_>) -> Result<(), String> {
    if chars.peek() == Some(&'^') {
        chars.next();
    }
    // A `]` first is a literal.
    if chars.peek() == Some(&']') {
        chars.next();
    }
    while let Some(c) = chars.next() {
        match c {
            '\\' => escape(chars)?,
            '[' if chars.peek() == Some(&':') => {
                chars.by_ref().find(|c| *c == ']');
            }
            ']' => return Ok(()),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_read_differently_by_re2_are_named() {
        for bad in [
            r"^[-\w._()]+$",
            r"\d+",
            r"a\sb",
            r"\bx",
            r"[^\S]",
            "(?u:x)",
            "(?x)a b",
            "(?=x)",
            "a{1001}",
            "(?:x{1,63}){1,33}",
            "((a{2}){20}b){26}",
            r"(?:[\p{L}]{0,90}){0,12}",
        ] {
            assert!(portable(bad).is_err(), "{bad}");
        }
        for ok in [
            r"^\p{L}+$",
            r"a\.b\\w",
            r"[\\w]",
            "(?:a|b)",
            "(?i)x",
            "(?-s:.)",
            "a{1000}",
            "(?:x{1,63})+",
            "((a{2}){20}b){25}",
            r"[{]{2}x{0,999}[\p{L}{}]{1000}",
            "(?i)(?:x{10}){100}",
        ] {
            assert_eq!(portable(ok), Ok(()), "{ok}");
        }
    }
}
